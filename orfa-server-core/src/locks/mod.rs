//! Advisory file locks, shared by every session of a server.
//!
//! A [`LockTable`] keeps, per file (the key a backend gives with
//! [`Backend::file_key`](crate::Backend::file_key)), the locks held and the
//! requests waiting for them, in arrival order. Locks follow the rules of
//! `fcntl(2)` record locks: a lock covers a byte range (open-ended when its
//! length is 0), is shared (read) or exclusive (write), and conflicts only
//! with locks of other owners. An owner's own locks never conflict with each
//! other: setting a range replaces what the owner held there, splitting and
//! merging its locks as needed. Whole-file `flock` locks are the same thing
//! over the range from 0 to infinity, owned by a handle.
//!
//! The driving contract is on [`LockTable`].

#[cfg(test)]
mod tests;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use orfa_wire::{ErrorCode, LockInfo, LockOwnerKind, LockType};

/// Names one session among all the sessions of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u64);

impl SessionId {
    /// The owner of locks taken through a shared open file (`SHARE`,
    /// `ATTACH`): they belong to the open file, not to a session, and go
    /// when its last handle closes. No session has this number.
    pub(crate) const SHARED: Self = Self(0);

    /// A number no other session of this process has.
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// How a session reaches the lock table it shares with the other sessions.
///
/// [`LockTable`] itself is one (a table used by a single thread); a
/// multi-threaded front end implements it over a mutex, and after running
/// `f` wakes the sessions [`LockTable::take_woken`] names.
pub trait LockAccess {
    /// Runs `f` with the table.
    fn with<R>(&mut self, f: impl FnOnce(&mut LockTable) -> R) -> R;
}

impl LockAccess for LockTable {
    fn with<R>(&mut self, f: impl FnOnce(&mut LockTable) -> R) -> R {
        f(self)
    }
}

/// How many locks and waiting requests one session may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockLimits {
    /// Lock records held (one per contiguous range of one owner and type).
    pub max_locks: usize,
    /// Requests waiting for a lock.
    pub max_waiters: usize,
}

impl Default for LockLimits {
    fn default() -> Self {
        Self {
            max_locks: 1024,
            max_waiters: 1024,
        }
    }
}

impl LockLimits {
    /// The most lock records `session` may hold: the locks of all shared
    /// open files together may hold 16 sessions' worth.
    fn max_locks_of(&self, session: SessionId) -> usize {
        if session == SessionId::SHARED {
            self.max_locks.saturating_mul(16)
        } else {
            self.max_locks
        }
    }
}

/// Who holds or waits for a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Owner {
    /// The session the owner belongs to ([`SessionId::SHARED`] for a
    /// shared open file).
    pub(crate) session: SessionId,
    /// POSIX (a process of that session) or HANDLE (one of its handles).
    pub(crate) kind: LockOwnerKind,
    /// The process id the client gave, the handle, or a shared open file's
    /// token.
    pub(crate) id: u64,
}

impl Owner {
    fn is_posix(&self) -> bool {
        self.kind == LockOwnerKind::POSIX
    }

    /// Whether this is a `flock` owner: those locks live apart from record locks.
    fn is_flock(&self) -> bool {
        self.kind == LockOwnerKind::FLOCK
    }
}

/// A byte range, both ends included; `end` is `u64::MAX` for "to infinity".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub(crate) start: u64,
    pub(crate) end: u64,
}

impl Range {
    /// The range of `len` bytes from `start` (0: to infinity); `None` if it
    /// would end past the largest offset.
    pub(crate) fn new(start: u64, len: u64) -> Option<Self> {
        let end = match len {
            0 => u64::MAX,
            len => start.checked_add(len - 1)?,
        };
        Some(Self { start, end })
    }

    /// The length as the protocol writes it (0: to infinity).
    pub(crate) fn len(&self) -> u64 {
        if self.end == u64::MAX {
            0
        } else {
            self.end - self.start + 1
        }
    }

    fn overlaps(&self, other: &Range) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// A lock held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Held {
    pub(crate) owner: Owner,
    /// [`LockType::READ`] or [`LockType::WRITE`].
    pub(crate) kind: LockType,
    pub(crate) range: Range,
}

impl Held {
    /// How `GETLK` reports this lock.
    pub(crate) fn info(&self) -> LockInfo {
        let pid = if self.owner.is_posix() {
            self.owner.id
        } else {
            u64::MAX
        };
        LockInfo {
            lock_type: self.kind.0.into(),
            start: self.range.start.into(),
            len: self.range.len().into(),
            owner_kind: self.owner.kind.0.into(),
            pid: pid.into(),
        }
    }

    /// Whether this lock stands in the way of `owner` taking `kind` over `range`.
    fn blocks(&self, owner: Owner, kind: LockType, range: &Range) -> bool {
        self.owner != owner
            && self.owner.is_flock() == owner.is_flock()
            && self.range.overlaps(range)
            && (self.kind == LockType::WRITE || kind == LockType::WRITE)
    }
}

/// A request waiting for a lock.
#[derive(Debug, Clone, Copy)]
struct Waiter {
    /// The tag of the waiting `LOCK`, answered when it ends.
    tag: u64,
    /// The session that sent it, which gets the answer.
    session: SessionId,
    owner: Owner,
    kind: LockType,
    range: Range,
}

/// The locks of one file.
#[derive(Debug, Default)]
struct FileLocks {
    held: Vec<Held>,
    /// In arrival order.
    waiters: VecDeque<Waiter>,
}

impl FileLocks {
    fn conflict(&self, owner: Owner, kind: LockType, range: &Range) -> Option<&Held> {
        self.held.iter().find(|h| h.blocks(owner, kind, range))
    }

    fn is_empty(&self) -> bool {
        self.held.is_empty() && self.waiters.is_empty()
    }
}

/// What one session has in the table.
#[derive(Debug, Default)]
struct SessionLocks {
    /// Lock records held.
    locks: usize,
    /// Requests waiting.
    waiters: usize,
    /// Answers to waiting requests that ended: (tag, status).
    answers: Vec<(u64, ErrorCode)>,
}

/// What became of a lock request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Set (or released) now.
    Done,
    /// Queued: the answer comes through [`LockTable::take_answers`].
    Waiting,
}

/// The most owners a deadlock search visits before giving up (and letting
/// the request wait).
const DEADLOCK_SEARCH: usize = 4096;

/// The locks of every file of a server, and the requests waiting for them.
///
/// # Driving contract
///
/// Sessions reach the table through [`LockAccess`]: a front end that serves
/// several sessions keeps one table behind a lock and hands each session an
/// accessor. A change made by one session (an unlock, a close, the end of a
/// session) can grant a request another session is waiting on. The table
/// then records the answer for that session and names it in
/// [`LockTable::take_woken`]; the front end drains that list after each
/// access and wakes those sessions' connections, which call
/// [`Session::poll_locks`](crate::Session::poll_locks) to queue the answers.
///
/// Memory is bounded: one session holds at most
/// [`LockLimits::max_locks`] lock records and [`LockLimits::max_waiters`]
/// waiting requests; beyond, requests fail with [`ErrorCode::NOLCK`].
#[derive(Debug, Default)]
pub struct LockTable {
    files: BTreeMap<u128, FileLocks>,
    sessions: BTreeMap<SessionId, SessionLocks>,
    /// Sessions with new answers, not yet taken by the front end.
    woken: Vec<SessionId>,
    limits: LockLimits,
}

impl LockTable {
    /// An empty table with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table with the given limits.
    pub fn with_limits(limits: LockLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// The sessions that have answers waiting since the last call: the
    /// front end wakes each so it calls
    /// [`Session::poll_locks`](crate::Session::poll_locks).
    pub fn take_woken(&mut self) -> Vec<SessionId> {
        core::mem::take(&mut self.woken)
    }

    /// The number of lock records held, over all files.
    pub fn lock_count(&self) -> usize {
        self.files.values().map(|f| f.held.len()).sum()
    }

    /// The number of requests waiting, over all files.
    pub fn waiter_count(&self) -> usize {
        self.files.values().map(|f| f.waiters.len()).sum()
    }

    /// Sets `kind` (or with [`LockType::UNLOCK`], releases) over `range` of
    /// file `key` for `owner`, asked by `owner`'s own session (see
    /// [`LockTable::set_for`]).
    #[cfg(test)]
    pub(crate) fn set(
        &mut self,
        key: u128,
        owner: Owner,
        kind: LockType,
        range: Range,
        wait: Option<u64>,
    ) -> Result<Outcome, ErrorCode> {
        self.set_for(owner.session, key, owner, kind, range, wait)
    }

    /// Sets `kind` (or with [`LockType::UNLOCK`], releases) over `range` of
    /// file `key` for `owner`, asked by session `asker`. A conflict fails
    /// with [`ErrorCode::AGAIN`], or with `wait` (the request's tag) queues
    /// the request for `asker`, unless waiting would deadlock
    /// ([`ErrorCode::DEADLK`]).
    pub(crate) fn set_for(
        &mut self,
        asker: SessionId,
        key: u128,
        owner: Owner,
        kind: LockType,
        range: Range,
        wait: Option<u64>,
    ) -> Result<Outcome, ErrorCode> {
        let file = self.files.entry(key).or_default();
        let blocked = kind != LockType::UNLOCK && file.conflict(owner, kind, &range).is_some();
        let result = match (blocked, wait) {
            (false, _) => apply(file, &mut self.sessions, self.limits, owner, kind, range)
                .map(|()| Outcome::Done),
            (true, None) => Err(ErrorCode::AGAIN),
            (true, Some(tag)) => self.enqueue(key, asker, tag, owner, kind, range),
        };
        if result == Ok(Outcome::Done) {
            self.grant_waiters(key);
        }
        self.tidy(key);
        result
    }

    /// Queues a request that conflicts.
    fn enqueue(
        &mut self,
        key: u128,
        session: SessionId,
        tag: u64,
        owner: Owner,
        kind: LockType,
        range: Range,
    ) -> Result<Outcome, ErrorCode> {
        if self.is_waiting(session, tag) {
            return Err(ErrorCode::PROTOCOL);
        }
        if self.would_deadlock(key, owner, kind, &range) {
            return Err(ErrorCode::DEADLK);
        }
        let state = self.sessions.entry(session).or_default();
        if state.waiters >= self.limits.max_waiters {
            return Err(ErrorCode::NOLCK);
        }
        state.waiters += 1;
        let waiter = Waiter {
            tag,
            session,
            owner,
            kind,
            range,
        };
        self.files.entry(key).or_default().waiters.push_back(waiter);
        Ok(Outcome::Waiting)
    }

    /// The first lock that keeps `owner` from taking `kind` over `range`.
    pub(crate) fn test(
        &self,
        key: u128,
        owner: Owner,
        kind: LockType,
        range: Range,
    ) -> Option<Held> {
        self.files.get(&key)?.conflict(owner, kind, &range).copied()
    }

    /// Whether `session` has a request tagged `tag` waiting.
    fn is_waiting(&self, session: SessionId, tag: u64) -> bool {
        self.sessions.get(&session).is_some_and(|s| s.waiters > 0)
            && self.files.values().any(|f| {
                f.waiters
                    .iter()
                    .any(|w| w.session == session && w.tag == tag)
            })
    }

    /// Withdraws the waiting request `tag` of `session`; returns whether
    /// there was one (it was not answered, and now never will be).
    pub(crate) fn cancel(&mut self, session: SessionId, tag: u64) -> bool {
        if !self.is_waiting(session, tag) {
            return false;
        }
        let mut found = None;
        for (key, file) in &mut self.files {
            let before = file.waiters.len();
            file.waiters
                .retain(|w| !(w.session == session && w.tag == tag));
            if file.waiters.len() != before {
                found = Some(*key);
                break;
            }
        }
        let Some(key) = found else {
            return false;
        };
        if let Some(state) = self.sessions.get_mut(&session) {
            state.waiters = state.waiters.saturating_sub(1);
        }
        // A waiter never blocks another, so no one else can proceed now.
        self.tidy(key);
        true
    }

    /// Releases the locks of handle `handle` of `session` on file `key` (the
    /// handle is being closed), or with [`SessionId::SHARED`] those of the
    /// shared open file `handle` names (its last handle is being closed).
    /// The waiting requests of that owner end with [`ErrorCode::BADF`].
    pub(crate) fn release_handle(&mut self, session: SessionId, handle: u64, key: u128) {
        let of_handle = |owner: &Owner| {
            owner.session == session
                && owner.id == handle
                && (owner.kind == LockOwnerKind::HANDLE || owner.is_flock())
        };
        let Some(file) = self.files.get_mut(&key) else {
            return;
        };
        let before = file.held.len();
        file.held.retain(|h| !of_handle(&h.owner));
        let state = self.sessions.entry(session).or_default();
        state.locks = state.locks.saturating_sub(before - file.held.len());
        let mut ended = Vec::new();
        file.waiters.retain(|w| {
            let keep = !of_handle(&w.owner);
            if !keep {
                ended.push((w.session, w.tag));
            }
            keep
        });
        for (asker, tag) in ended {
            let state = self.sessions.entry(asker).or_default();
            state.waiters = state.waiters.saturating_sub(1);
            state.answers.push((tag, ErrorCode::BADF));
            if !self.woken.contains(&asker) {
                self.woken.push(asker);
            }
        }
        self.grant_waiters(key);
        self.tidy(key);
    }

    /// Gives the locks and waiting requests `from` has on file `key` to
    /// `to` (a handle's locks, when its open file becomes shared). Fails
    /// with [`ErrorCode::NOLCK`] if `to` cannot hold that many more.
    pub(crate) fn transfer(&mut self, key: u128, from: Owner, to: Owner) -> Result<(), ErrorCode> {
        let Some(file) = self.files.get_mut(&key) else {
            return Ok(());
        };
        let moved = file.held.iter().filter(|h| h.owner == from).count();
        if moved > 0 {
            let target = self.sessions.entry(to.session).or_default();
            if target.locks + moved > self.limits.max_locks_of(to.session) {
                return Err(ErrorCode::NOLCK);
            }
            target.locks += moved;
            let source = self.sessions.entry(from.session).or_default();
            source.locks = source.locks.saturating_sub(moved);
        }
        for h in file.held.iter_mut().filter(|h| h.owner == from) {
            h.owner = to;
        }
        for w in file.waiters.iter_mut().filter(|w| w.owner == from) {
            w.owner = to;
        }
        Ok(())
    }

    /// Forgets everything of `session` (it ended): its locks, its waiting
    /// requests and their answers. Others' requests may be granted.
    pub(crate) fn release_session(&mut self, session: SessionId) {
        if self.sessions.remove(&session).is_none() {
            return;
        }
        let mut touched = Vec::new();
        for (key, file) in &mut self.files {
            let before = (file.held.len(), file.waiters.len());
            file.held.retain(|h| h.owner.session != session);
            file.waiters.retain(|w| w.session != session);
            if before != (file.held.len(), file.waiters.len()) {
                touched.push(*key);
            }
        }
        for key in touched {
            self.grant_waiters(key);
            self.tidy(key);
        }
        // Answers granted while releasing may have re-created the entry.
        self.sessions.remove(&session);
        self.woken.retain(|s| *s != session);
    }

    /// The answers to `session`'s waiting requests that ended: (tag, status).
    pub(crate) fn take_answers(&mut self, session: SessionId) -> Vec<(u64, ErrorCode)> {
        self.sessions
            .get_mut(&session)
            .map(|s| core::mem::take(&mut s.answers))
            .unwrap_or_default()
    }

    /// Grants, in arrival order, every waiting request of file `key` that
    /// no held lock blocks any more.
    fn grant_waiters(&mut self, key: u128) {
        let Some(file) = self.files.get_mut(&key) else {
            return;
        };
        let mut i = 0;
        while let Some(w) = file.waiters.get(i).copied() {
            if file.conflict(w.owner, w.kind, &w.range).is_some() {
                i += 1;
                continue;
            }
            file.waiters.remove(i);
            if let Some(state) = self.sessions.get_mut(&w.session) {
                state.waiters = state.waiters.saturating_sub(1);
            }
            let status = match apply(
                file,
                &mut self.sessions,
                self.limits,
                w.owner,
                w.kind,
                w.range,
            ) {
                Ok(()) => ErrorCode::OK,
                Err(e) => e,
            };
            let state = self.sessions.entry(w.session).or_default();
            state.answers.push((w.tag, status));
            if !self.woken.contains(&w.session) {
                self.woken.push(w.session);
            }
            // A grant can turn the owner's write lock into a read lock, which
            // may let an earlier waiter through: look again from the start.
            i = 0;
        }
    }

    /// Whether `owner` waiting for `kind` over `range` of file `key` would
    /// close a cycle of POSIX owners each waiting for the next.
    fn would_deadlock(&self, key: u128, owner: Owner, kind: LockType, range: &Range) -> bool {
        if !owner.is_posix() {
            return false;
        }
        let Some(file) = self.files.get(&key) else {
            return false;
        };
        let mut stack: Vec<Owner> = file
            .held
            .iter()
            .filter(|h| h.blocks(owner, kind, range) && h.owner.is_posix())
            .map(|h| h.owner)
            .collect();
        let mut seen: Vec<Owner> = Vec::new();
        while let Some(next) = stack.pop() {
            if next == owner {
                return true;
            }
            if seen.contains(&next) {
                continue;
            }
            if seen.len() >= DEADLOCK_SEARCH {
                return false;
            }
            seen.push(next);
            for file in self.files.values() {
                for w in file.waiters.iter().filter(|w| w.owner == next) {
                    stack.extend(
                        file.held
                            .iter()
                            .filter(|h| h.blocks(w.owner, w.kind, &w.range) && h.owner.is_posix())
                            .map(|h| h.owner),
                    );
                }
            }
        }
        false
    }

    /// Drops the entry of file `key` once nothing is held or waiting there.
    fn tidy(&mut self, key: u128) {
        if self.files.get(&key).is_some_and(FileLocks::is_empty) {
            self.files.remove(&key);
        }
    }
}

/// Makes `owner` hold `kind` over `range` of `file` (or nothing there, for
/// [`LockType::UNLOCK`]): what it held in the range goes, what it held
/// around is split off, and touching ranges of the same type merge.
/// Fails with [`ErrorCode::NOLCK`] if that would take the session past its
/// lock limit.
fn apply(
    file: &mut FileLocks,
    sessions: &mut BTreeMap<SessionId, SessionLocks>,
    limits: LockLimits,
    owner: Owner,
    kind: LockType,
    range: Range,
) -> Result<(), ErrorCode> {
    let mut mine: Vec<Held> = Vec::new();
    let mut before = 0;
    for h in file.held.iter().filter(|h| h.owner == owner) {
        before += 1;
        if !h.range.overlaps(&range) {
            mine.push(*h);
            continue;
        }
        if h.range.start < range.start {
            let left = Range {
                start: h.range.start,
                end: range.start - 1,
            };
            mine.push(Held { range: left, ..*h });
        }
        if h.range.end > range.end {
            let right = Range {
                start: range.end + 1,
                end: h.range.end,
            };
            mine.push(Held { range: right, ..*h });
        }
    }
    if kind != LockType::UNLOCK {
        mine.push(Held { owner, kind, range });
    }
    mine.sort_by_key(|h| h.range.start);
    let mut merged: Vec<Held> = Vec::with_capacity(mine.len());
    for h in mine {
        if let Some(last) = merged.last_mut() {
            if last.kind == h.kind && last.range.end.checked_add(1) == Some(h.range.start) {
                last.range.end = h.range.end;
                continue;
            }
        }
        merged.push(h);
    }

    let state = sessions.entry(owner.session).or_default();
    let total = state.locks.saturating_sub(before) + merged.len();
    if merged.len() > before && total > limits.max_locks_of(owner.session) {
        return Err(ErrorCode::NOLCK);
    }
    state.locks = total;
    file.held.retain(|h| h.owner != owner);
    file.held.extend(merged);
    Ok(())
}
