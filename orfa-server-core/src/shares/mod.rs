//! Open files shared between sessions, for `SHARE` and `ATTACH`.
//!
//! A process that forks or execs hands its descriptors to a process with a
//! session of its own. To reach the same open file (even one renamed over or
//! unlinked since), the first session shares its handle: the server keeps a
//! node of the open file under a token, and any session of the same user
//! attaches to it with the token.
//!
//! A [`ShareTable`] is the bookkeeping a backend needs for that: the token
//! of each shared open file, its owner, how many handles of sessions still
//! hold it and, once none does, since when it has been idle. An idle entry
//! stays for a grace period, so that a process that inherited the
//! descriptor can attach after its parent closed it or after an `exec` ended
//! its old session; then it goes. The table is bounded: when full, it drops
//! the longest-idle entry, and refuses a new one if none is idle.
//!
//! The table never closes a node itself: every call that removes entries
//! returns their nodes, and the backend closes them.

#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use orfa_wire::ErrorCode;

use crate::backend::{Context, Timestamp};

/// How many open files a [`ShareTable`] keeps, and for how long once idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareLimits {
    /// The most entries at once.
    pub max_entries: usize,
    /// Seconds an entry stays once no handle holds it.
    pub grace_secs: u64,
}

impl Default for ShareLimits {
    fn default() -> Self {
        Self {
            max_entries: 4096,
            grace_secs: 60,
        }
    }
}

/// One shared open file.
#[derive(Debug)]
struct Entry<N> {
    /// The table's own node of the open file: attached nodes are made from it.
    node: N,
    /// The user that shared it; only that user (or root) may attach.
    uid: u32,
    /// Handles of live sessions on the open file (shared or attached).
    holders: u64,
    /// When the last holder went, while no handle holds it.
    idle_since: Option<Timestamp>,
}

/// The shared open files of a server (see the module documentation).
#[derive(Debug)]
pub struct ShareTable<N> {
    entries: BTreeMap<u64, Entry<N>>,
    limits: ShareLimits,
    /// Mixed into token numbers so that they do not run in sequence.
    key: u64,
    /// Counts the tokens issued.
    issued: u64,
}

impl<N> ShareTable<N> {
    /// An empty table with the default limits. `seed` (any value, ideally
    /// random) makes the server's tokens differ from another server's.
    pub fn new(seed: u64) -> Self {
        Self::with_limits(seed, ShareLimits::default())
    }

    /// An empty table with `limits`.
    pub fn with_limits(seed: u64, limits: ShareLimits) -> Self {
        Self {
            entries: BTreeMap::new(),
            limits,
            key: seed,
            issued: 0,
        }
    }

    /// Changes the limits; entries over a lower maximum go as room is needed.
    pub fn set_limits(&mut self, limits: ShareLimits) {
        self.limits = limits;
    }

    /// The number of entries, idle ones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keeps `node`, the backend's own node of a newly shared open file, for
    /// `cx.uid`, held by one handle (the one being shared). Returns the new
    /// token and the nodes of entries removed to make room or whose grace
    /// period ended; the caller closes them. If the table is full of held
    /// entries, gives `node` back with [`ErrorCode::NFILE`].
    pub fn insert(&mut self, cx: &Context<'_>, node: N) -> Result<(u64, Vec<N>), (ErrorCode, N)> {
        let mut gone = self.expire(cx.now);
        while self.entries.len() >= self.limits.max_entries {
            let oldest = self
                .entries
                .iter()
                .filter_map(|(&token, e)| e.idle_since.map(|t| (t, token)))
                .min();
            match oldest.and_then(|(_, token)| self.entries.remove(&token)) {
                Some(entry) => gone.push(entry.node),
                None => return Err((ErrorCode::NFILE, node)),
            }
        }
        let token = self.next_token();
        self.entries.insert(
            token,
            Entry {
                node,
                uid: cx.uid,
                holders: 1,
                idle_since: None,
            },
        );
        Ok((token, gone))
    }

    /// The node kept for `token`, to make an attached node from, if `cx`
    /// may attach to it: [`ErrorCode::STALE`] if the entry is gone (or its
    /// grace period over), [`ErrorCode::ACCES`] if another user shared it
    /// and the caller is not root. Count the new handle with
    /// [`ShareTable::hold`] once it exists.
    pub fn get(&self, cx: &Context<'_>, token: u64) -> Result<&N, ErrorCode> {
        let entry = self.entries.get(&token).ok_or(ErrorCode::STALE)?;
        if entry
            .idle_since
            .is_some_and(|since| self.expired(since, cx.now))
        {
            return Err(ErrorCode::STALE);
        }
        if entry.uid != cx.uid && cx.uid != 0 {
            return Err(ErrorCode::ACCES);
        }
        Ok(&entry.node)
    }

    /// Counts one more handle on `token`'s open file.
    pub fn hold(&mut self, token: u64) {
        if let Some(entry) = self.entries.get_mut(&token) {
            entry.holders += 1;
            entry.idle_since = None;
        }
    }

    /// Counts one handle fewer on `token`'s open file (closed, or its
    /// session ended) at `now`. Returns whether that was the last handle
    /// (the open file's locks go), and the nodes of entries whose grace
    /// period ended, which the caller closes.
    pub fn let_go(&mut self, token: u64, now: Timestamp) -> (bool, Vec<N>) {
        let mut last = false;
        if let Some(entry) = self.entries.get_mut(&token) {
            entry.holders = entry.holders.saturating_sub(1);
            if entry.holders == 0 {
                entry.idle_since = Some(now);
                last = true;
            }
        }
        (last, self.expire(now))
    }

    /// Removes the entries idle for the whole grace period at `now`, and
    /// returns their nodes for the caller to close.
    pub fn expire(&mut self, now: Timestamp) -> Vec<N> {
        let limits = self.limits;
        let over: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                e.idle_since
                    .is_some_and(|since| past_grace(limits, since, now))
            })
            .map(|(&token, _)| token)
            .collect();
        over.iter()
            .filter_map(|token| self.entries.remove(token))
            .map(|entry| entry.node)
            .collect()
    }

    /// Removes every entry (the server is stopping) and returns the nodes.
    pub fn drain(&mut self) -> Vec<N> {
        core::mem::take(&mut self.entries)
            .into_values()
            .map(|entry| entry.node)
            .collect()
    }

    fn expired(&self, since: Timestamp, now: Timestamp) -> bool {
        past_grace(self.limits, since, now)
    }

    /// A token not issued before by this table, never 0: a bijective mix of
    /// a counter, so distinct counts give distinct tokens.
    fn next_token(&mut self) -> u64 {
        loop {
            self.issued = self.issued.wrapping_add(1);
            let token = mix(self.issued ^ self.key);
            if token != 0 && !self.entries.contains_key(&token) {
                return token;
            }
        }
    }
}

/// Whether an entry idle since `since` has outlived the grace period at `now`.
fn past_grace(limits: ShareLimits, since: Timestamp, now: Timestamp) -> bool {
    let grace = i64::try_from(limits.grace_secs).unwrap_or(i64::MAX);
    now.sec.saturating_sub(since.sec) >= grace
}

/// A bijection of `u64` that scatters neighbouring inputs (the finaliser of
/// SplitMix64).
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
