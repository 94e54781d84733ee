//! Sets of page indices held as ranges, so that reserving a terabyte costs
//! one entry rather than one per page.

use alloc::collections::BTreeMap;

/// A set of `u64` indices, kept as disjoint, non-adjacent half-open ranges.
///
/// Every operation costs a logarithm of the number of ranges plus the
/// number of ranges it touches, never the number of indices.
#[derive(Debug, Default)]
pub(super) struct Ranges {
    /// Start of each range to its end (exclusive).
    ranges: BTreeMap<u64, u64>,
    /// Indices in the set.
    len: u64,
}

impl Ranges {
    /// How many indices the set holds.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// The ranges that overlap `[start, end)`, clipped to it, in order.
    pub(super) fn overlapping(&self, start: u64, end: u64) -> impl Iterator<Item = (u64, u64)> {
        let before = self
            .ranges
            .range(..start)
            .next_back()
            .filter(|(_, e)| **e > start);
        let within = self.ranges.range(start..end.max(start));
        before
            .into_iter()
            .chain(within)
            .map(move |(&s, &e)| (s.max(start), e.min(end)))
            .filter(|(s, e)| s < e)
    }

    /// How many indices of `[start, end)` the set holds.
    pub(super) fn count_in(&self, start: u64, end: u64) -> u64 {
        self.overlapping(start, end).map(|(s, e)| e - s).sum()
    }

    /// Adds the indices `[start, end)`.
    pub(super) fn insert(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (mut new_start, mut new_end) = (start, end);
        // A range ending at or after `start` merges with the new one.
        if let Some((&s, &e)) = self.ranges.range(..start).next_back() {
            if e >= start {
                new_start = s;
                new_end = new_end.max(e);
            }
        }
        let absorbed: alloc::vec::Vec<(u64, u64)> = self
            .ranges
            .range(new_start..=new_end)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in absorbed {
            self.ranges.remove(&s);
            self.len -= e - s;
            new_end = new_end.max(e);
        }
        self.ranges.insert(new_start, new_end);
        self.len += new_end - new_start;
    }

    /// Removes the indices `[start, end)`; returns how many were in the set.
    pub(super) fn remove(&mut self, start: u64, end: u64) -> u64 {
        if start >= end {
            return 0;
        }
        let touched: alloc::vec::Vec<(u64, u64)> = self
            .ranges
            .range(..end)
            .rev()
            .take_while(|(_, e)| **e > start)
            .map(|(&s, &e)| (s, e))
            .collect();
        let mut removed = 0;
        for (s, e) in touched {
            self.ranges.remove(&s);
            if s < start {
                self.ranges.insert(s, start);
            }
            if e > end {
                self.ranges.insert(end, e);
            }
            removed += e.min(end) - s.max(start);
        }
        self.len -= removed;
        removed
    }
}
