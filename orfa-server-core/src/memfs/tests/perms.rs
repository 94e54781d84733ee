//! Permission bits, ownership of new files, and the superuser's rights.

use super::*;

fn chmod(t: &mut Fs, path: &str, mode: u64) {
    let set = set_attr(SetAttrMask::MODE, |s| s.mode = mode.into());
    t.setattr(path, set).unwrap();
}

#[test]
fn access_checks_mode_bits() {
    let mut t = Fs::new();
    t.put("ro", b"");
    chmod(&mut t, "ro", 0o444);
    assert_eq!(t.access("ro", AccessMode::READ), Ok(()));
    assert_eq!(t.access("ro", AccessMode::WRITE), Err(ErrorCode::ACCES));
    assert_eq!(t.access("ro", AccessMode::EXEC), Err(ErrorCode::ACCES));
    assert_eq!(t.access("ro", AccessMode::NONE), Ok(()));
    assert_eq!(t.access("none", AccessMode::NONE), Err(ErrorCode::NOENT));
    assert_eq!(t.access("ro", AccessMode(8)), Err(ErrorCode::INVAL));

    t.put("plain", b"");
    chmod(&mut t, "plain", 0o644);
    t.as_user(0, 0);
    assert_eq!(t.access("ro", AccessMode::WRITE), Ok(()));
    // Root may execute only what someone may execute.
    assert_eq!(t.access("plain", AccessMode::EXEC), Err(ErrorCode::ACCES));
    chmod(&mut t, "plain", 0o604);
    chmod(&mut t, "plain", 0o654);
    assert_eq!(t.access("plain", AccessMode::EXEC), Ok(()));
    // Root may search any directory.
    t.mkdir("locked").unwrap();
    chmod(&mut t, "locked", 0o000);
    assert_eq!(t.access("locked", AccessMode::EXEC), Ok(()));
    t.put("locked/f", b"");
}

#[test]
fn other_users_are_held_to_the_bits() {
    let mut t = Fs::new();
    t.put("s", b"secret");
    chmod(&mut t, "s", 0o600);
    t.put("g", b"group");
    chmod(&mut t, "g", 0o640);
    t.as_user(65534, 65534);
    assert_eq!(t.open("s", R).err(), Some(ErrorCode::ACCES));
    let node = t.open("s", OpenFlags::PATH).unwrap();
    t.close(node);
    assert_eq!(t.open("g", R).err(), Some(ErrorCode::ACCES));
    // Same group: the group bits apply.
    t.as_user(65534, 1000);
    assert_eq!(t.get("g").unwrap(), b"group");
    assert_eq!(t.open("g", W).err(), Some(ErrorCode::ACCES));
    assert_eq!(
        t.open("g", R | OpenFlags::TRUNC).err(),
        Some(ErrorCode::ACCES)
    );
    // The root directory is 0755: others may not create in it.
    assert_eq!(t.open("mine", CREATE).err(), Some(ErrorCode::ACCES));
    assert_eq!(t.mkdir("mine"), Err(ErrorCode::ACCES));
    assert_eq!(t.unlink("s"), Err(ErrorCode::ACCES));
    assert_eq!(t.rename("s", "t"), Err(ErrorCode::ACCES));
}

#[test]
fn search_permission_guards_lookups() {
    let mut t = Fs::new();
    t.mkdir("d").unwrap();
    t.put("d/f", b"x");
    chmod(&mut t, "d", 0o600);
    assert_eq!(t.stat("d/f").err(), Some(ErrorCode::ACCES));
    assert_eq!(t.get("d/f").err(), Some(ErrorCode::ACCES));
    assert!(t.stat("d").is_ok());
    assert_eq!(t.list("d").unwrap().len(), 1);
    chmod(&mut t, "d", 0o300);
    assert_eq!(t.open("d", R).err(), Some(ErrorCode::ACCES));
    assert_eq!(t.get("d/f").unwrap(), b"x");
}

#[test]
fn new_files_belong_to_the_caller() {
    let mut t = Fs::new();
    t.as_user(0, 0);
    t.mkdir("pub").unwrap();
    chmod(&mut t, "pub", 0o1777);
    t.as_user(42, 43);
    t.put("pub/mine", b"");
    let a = t.stat("pub/mine").unwrap();
    assert_eq!((a.uid.get(), a.gid.get(), a.mode.get()), (42, 43, 0o100644));
    // Sticky directory: others may not remove or rename my file.
    t.as_user(44, 44);
    assert_eq!(t.unlink("pub/mine"), Err(ErrorCode::PERM));
    assert_eq!(t.rename("pub/mine", "pub/theirs"), Err(ErrorCode::PERM));
    t.as_user(42, 43);
    t.unlink("pub/mine").unwrap();

    // A set-group-id directory passes its group on, and its bit to subdirectories.
    t.as_user(0, 0);
    t.mkdir("shared").unwrap();
    let set = set_attr(SetAttrMask::MODE | SetAttrMask::GID, |s| {
        s.mode = 0o2777.into();
        s.gid = 500.into();
    });
    t.setattr("shared", set).unwrap();
    t.as_user(42, 43);
    t.put("shared/f", b"");
    t.mkdir("shared/sub").unwrap();
    assert_eq!(t.stat("shared/f").unwrap().gid.get(), 500);
    let sub = t.stat("shared/sub").unwrap();
    assert_eq!((sub.gid.get(), sub.mode.get()), (500, 0o042755));
    t.check();
}

#[test]
fn writes_by_others_than_root_clear_setuid() {
    let mut t = Fs::new();
    t.put("s", b"");
    chmod(&mut t, "s", 0o4755);
    let node = t.open("s", W).unwrap();
    t.write(&node, 0, b"x").unwrap();
    assert_eq!(t.fstat(&node).mode.get(), 0o100755);
    t.close(node);

    t.as_user(0, 0);
    chmod(&mut t, "s", 0o4755);
    let node = t.open("s", W).unwrap();
    t.write(&node, 0, b"y").unwrap();
    assert_eq!(t.fstat(&node).mode.get(), 0o104755);
    t.close(node);
    // A change of owner clears it whoever asks.
    let set = set_attr(SetAttrMask::UID, |s| s.uid = 5.into());
    assert_eq!(t.setattr("s", set).unwrap().mode.get(), 0o100755);
}

#[test]
fn creation_modes_are_masked() {
    let mut t = Fs::new();
    let (n, a) = t.fs.open(&t.cx, None, b"f", CREATE, 0o170777).unwrap();
    assert_eq!(a.mode.get(), 0o100777);
    t.close(n);
    t.fs.mkdir(&t.cx, None, b"d", 0o177777).unwrap();
    assert_eq!(t.stat("d").unwrap().mode.get(), 0o041777);
    let root = MemFs::new(at(0));
    let cx = Context::default();
    let mut root = root;
    assert_eq!(
        root.stat(&cx, None, b"", FOLLOW).unwrap().mode.get(),
        0o040755
    );
    assert_eq!(root.stat(&cx, None, b"", FOLLOW).unwrap().uid.get(), 0);
}

#[test]
fn supplementary_groups_grant_group_rights() {
    let mut t = Fs::new();
    t.put("g", b"group");
    chmod(&mut t, "g", 0o640);
    t.as_user(0, 0);
    let set = set_attr(SetAttrMask::GID, |s| s.gid = 2000.into());
    t.setattr("g", set).unwrap();

    t.as_user(3000, 3000);
    assert_eq!(t.open("g", R).err(), Some(ErrorCode::ACCES));
    t.with_groups(&[5, 2000]);
    assert_eq!(t.get("g").unwrap(), b"group");
    assert_eq!(t.access("g", AccessMode::WRITE), Err(ErrorCode::ACCES));

    // An owner may give a file to any group they are in, and keep set-group-id.
    t.as_user(0, 0);
    let set = set_attr(SetAttrMask::UID, |s| s.uid = 3000.into());
    t.setattr("g", set).unwrap();
    t.as_user(3000, 3000);
    let set = set_attr(SetAttrMask::GID, |s| s.gid = 5.into());
    assert_eq!(t.setattr("g", set).unwrap().gid.get(), 5);
    let set = set_attr(SetAttrMask::GID, |s| s.gid = 6.into());
    assert_eq!(t.setattr("g", set).err(), Some(ErrorCode::PERM));
    chmod(&mut t, "g", 0o2750);
    assert_eq!(t.stat("g").unwrap().mode.get() & 0o7777, 0o2750);
    t.with_groups(&[]);
    chmod(&mut t, "g", 0o2750);
    assert_eq!(t.stat("g").unwrap().mode.get() & 0o7777, 0o750);
}
