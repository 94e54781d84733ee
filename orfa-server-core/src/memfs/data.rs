//! The bytes of a regular file, stored sparsely in pages.
//!
//! A file is a size and a map from page index to the bytes stored in that
//! page. Any byte below the size that no page holds reads as zero, so
//! extending a file (a 1 GiB `truncate`, a write far past the end) costs
//! nothing until data lands there. A page holds at most [`PAGE`] bytes and may
//! be shorter than that: its missing tail reads as zero too, which keeps small
//! files small. No page holds bytes at or past the size.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Bytes per page; also the unit `blocks` counts in (as ext4's 4 KiB blocks).
pub(super) const PAGE: u64 = 4096;

/// The largest file size (16 TiB, as ext4 with 4 KiB blocks).
pub(super) const MAX_FILE_SIZE: u64 = 1 << 44;

/// A regular file's content.
#[derive(Debug, Default)]
pub(super) struct FileData {
    size: u64,
    pages: BTreeMap<u64, Vec<u8>>,
}

impl FileData {
    /// The file's size in bytes.
    pub(super) fn size(&self) -> u64 {
        self.size
    }

    /// Pages holding data.
    pub(super) fn pages(&self) -> u64 {
        self.pages.len() as u64
    }

    /// Allocated 512-byte blocks.
    pub(super) fn blocks(&self) -> u64 {
        self.pages() * (PAGE / 512)
    }

    /// Copies the bytes at `offset` into `buf`; returns how many there were
    /// (fewer than `buf.len()` only at the end of the file).
    pub(super) fn read(&self, offset: u64, buf: &mut [u8]) -> usize {
        let Some(avail) = self.size.checked_sub(offset) else {
            return 0;
        };
        let n = usize::try_from(avail).map_or(buf.len(), |a| a.min(buf.len()));
        let Some(out) = buf.get_mut(..n) else {
            return 0;
        };
        if n == 0 {
            return 0;
        }
        out.fill(0);
        let end = offset + n as u64;
        for (&index, page) in self.pages.range(offset / PAGE..=(end - 1) / PAGE) {
            let page_start = index * PAGE;
            let from = offset.max(page_start);
            let to = end.min(page_start + page.len() as u64);
            if from >= to {
                continue;
            }
            let src = &page[(from - page_start) as usize..(to - page_start) as usize];
            out[(from - offset) as usize..(to - offset) as usize].copy_from_slice(src);
        }
        n
    }

    /// Pages a write of `len` bytes at `offset` would add.
    pub(super) fn pages_needed(&self, offset: u64, len: usize) -> u64 {
        if len == 0 {
            return 0;
        }
        let last = (offset + len as u64 - 1) / PAGE;
        (offset / PAGE..=last)
            .filter(|i| !self.pages.contains_key(i))
            .count() as u64
    }

    /// Stores `data` at `offset`, extending the file if needed. The caller
    /// has checked that `offset + data.len()` is at most [`MAX_FILE_SIZE`].
    pub(super) fn write(&mut self, offset: u64, data: &[u8]) {
        let mut pos = offset;
        let mut rest = data;
        while !rest.is_empty() {
            let index = pos / PAGE;
            let within = (pos % PAGE) as usize;
            let take = rest.len().min(PAGE as usize - within);
            let (chunk, tail) = rest.split_at(take);
            let page = self.pages.entry(index).or_default();
            let need = within + take;
            if page.len() < need {
                // Grow geometrically within the page, never past it.
                let target = need.max(page.len() * 2).min(PAGE as usize);
                page.reserve_exact(target - page.len());
                page.resize(need, 0);
            }
            page[within..need].copy_from_slice(chunk);
            pos += take as u64;
            rest = tail;
        }
        self.size = self.size.max(pos);
    }

    /// Sets the size to `size`, dropping the bytes past it; growing adds a hole.
    pub(super) fn truncate(&mut self, size: u64) {
        if size < self.size {
            let keep_pages = size.div_ceil(PAGE);
            drop(self.pages.split_off(&keep_pages));
            let within = (size % PAGE) as usize;
            if within != 0 {
                if let Some(page) = self.pages.get_mut(&(size / PAGE)) {
                    page.truncate(within);
                    page.shrink_to_fit();
                }
            }
        }
        self.size = size;
    }
}
