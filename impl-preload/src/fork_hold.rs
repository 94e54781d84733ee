//! The library's locks, held across a `fork`.
//!
//! A child of a multi-threaded program has only the thread that forked: a
//! lock another thread held at that moment stays held in the child for
//! ever, and the child's first remote call would wait on it. So before a
//! `fork` the forking thread takes every lock of the library (each server's
//! connection, the descriptor table, the stream and directory tables...),
//! with signals blocked, and lets them go in both processes after it. The
//! locks are taken all at once or not at all, and taken again after a short
//! pause if another thread holds one: no order between them is needed, so
//! two threads that fork at once cannot deadlock. A thread waiting for a
//! server holds its connection for at most the request timeout.

use core::any::Any;
use std::sync::{Mutex, TryLockError};

use crate::remote::SignalsBlocked;

/// One lock held across a fork (its guard).
pub(crate) type Held = Box<dyn Any>;

std::thread_local! {
    /// What the forking thread holds between the `fork` handlers.
    static HELD: core::cell::RefCell<Option<(SignalsBlocked, Vec<Held>)>> =
        const { core::cell::RefCell::new(None) };
}

/// `mutex`'s guard if it is free now (poisoned counts as free).
pub(crate) fn try_take<T: 'static>(mutex: &'static Mutex<T>) -> Option<Held> {
    match mutex.try_lock() {
        Ok(guard) => Some(Box::new(guard)),
        Err(TryLockError::Poisoned(p)) => Some(Box::new(p.into_inner())),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Every lock of the library, or `None` if another thread holds one.
fn try_all() -> Option<Vec<Held>> {
    let mut held = crate::remote::try_hold_for_fork()?;
    for take in [
        crate::vfd::try_hold_for_fork,
        crate::cwd::try_hold_for_fork,
        crate::locks::try_hold_for_fork,
        crate::ahead::try_hold_for_fork,
        crate::dir::try_hold_for_fork,
        crate::fts::try_hold_for_fork,
        crate::stdio::try_hold_for_fork,
        crate::std_streams::try_hold_for_fork,
    ] {
        held.push(take()?);
    }
    Some(held)
}

/// Takes every lock of the library for the `fork` about to happen.
pub(crate) fn hold() {
    let signals = SignalsBlocked::new();
    let held = loop {
        if let Some(held) = try_all() {
            break held;
        }
        // Another thread is inside the library: give it time to leave.
        std::thread::sleep(std::time::Duration::from_micros(50));
    };
    HELD.with(|h| *h.borrow_mut() = Some((signals, held)));
}

/// Lets go of what [`hold`] took, in the parent and in the child.
pub(crate) fn release() {
    let held = HELD.with(|h| h.borrow_mut().take());
    if let Some((signals, locks)) = held {
        drop(locks);
        drop(signals);
    }
}
