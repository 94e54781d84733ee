//! Descriptions: made, found again through their descriptor, and their
//! offset held across processes.

use super::{LINK, Recipe, Shared, pid};

fn recipe() -> Recipe<'static> {
    Recipe {
        server: b"127.0.0.1:9",
        path: b"dir/file",
        open_flags: libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND,
        status: libc::O_RDWR | libc::O_APPEND,
        is_dir: false,
        ino: 42,
    }
}

fn close(fd: libc::c_int) {
    // SAFETY: the test's own descriptor.
    unsafe { libc::close(fd) };
}

#[test]
fn a_description_is_found_again_through_its_descriptor() {
    let (made, fd) = Shared::create(&recipe(), true).unwrap();
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
    assert_eq!(link.as_os_str().as_encoded_bytes(), LINK);
    let found = Shared::adopt(fd).unwrap();
    assert_eq!(found.key(), made.key());
    assert_eq!(found.server(), b"127.0.0.1:9");
    assert_eq!(found.path(), b"dir/file");
    assert_eq!(found.reopen_flags(), libc::O_RDWR | libc::O_APPEND);
    assert!(!found.is_dir());
    *made.lock_offset() = 42;
    made.set_status(libc::O_WRONLY);
    assert_eq!(*found.lock_offset(), 42);
    assert_eq!(found.status(), libc::O_WRONLY);
    // SAFETY: F_GETFD takes no argument.
    let fd_flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert_eq!(fd_flags, libc::FD_CLOEXEC);
    close(fd);
}

#[test]
fn the_descriptor_refuses_reads_and_writes_that_escape() {
    let (_made, fd) = Shared::create(&recipe(), false).unwrap();
    let mut byte = [0u8; 1];
    // SAFETY: one writable byte.
    let read = unsafe { libc::syscall(libc::SYS_read, fd, byte.as_mut_ptr(), 1) };
    assert_eq!(read, -1);
    assert_eq!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::EBADF)
    );
    // SAFETY: one readable byte.
    let written = unsafe { libc::syscall(libc::SYS_write, fd, byte.as_ptr(), 1) };
    assert_eq!(written, -1);
    close(fd);
}

#[test]
fn other_descriptors_are_not_adopted() {
    let file = tempfile::tempfile().unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    assert!(Shared::adopt(fd).is_err());
}

#[test]
fn an_offset_left_held_by_a_dead_process_is_taken_over() {
    let (made, fd) = Shared::create(&recipe(), true).unwrap();
    // SAFETY: the child only takes the lock and exits without running
    // anything of the test harness.
    let child = unsafe { libc::fork() };
    if child == 0 {
        let held = made.lock_offset();
        core::mem::forget(held);
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: waits for the child made above.
    unsafe { libc::waitpid(child, &raw mut status, 0) };
    let started = std::time::Instant::now();
    *made.lock_offset() = 7;
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(*made.lock_offset(), 7);
    assert_ne!(pid(), child as u32);
    close(fd);
}
