//! Directory read-ahead: one batch of entries held, handed out one by one.

use alloc::vec::Vec;

use orfa_wire::{DirEntry, DirEntryIter, WireError};

/// The listing of one open directory, a batch at a time.
///
/// Call [`DirStream::next_entry`] repeatedly. When it answers
/// [`DirStep::Fetch`], send a `READDIR` from the given cookie and give the
/// reply's batch to [`DirStream::fill`]; then carry on. Positions are the
/// server's cookies: [`DirStream::tell`] is the cookie after the last entry
/// handed out, [`DirStream::seek`] goes back to one, [`DirStream::rewind`] to
/// the start. The stream owns no connection and sends nothing itself.
#[derive(Debug, Clone, Default)]
pub struct DirStream {
    batch: Vec<u8>,
    /// Offset of the next entry in `batch`.
    pos: usize,
    /// The cookie that resumes after the last entry handed out (0: start).
    cookie: u64,
    state: State,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// No batch for the current position.
    #[default]
    Empty,
    /// A batch; `complete` if the listing ends with it, `with_attrs` if its
    /// entries carry attributes (a `READDIRPLUS` batch).
    Batch { complete: bool, with_attrs: bool },
}

/// What [`DirStream::next_entry`] has to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirStep<'a> {
    /// The next entry.
    Entry(DirEntry<'a>),
    /// The batch is used up: fetch the next one from this cookie.
    Fetch(u64),
    /// The listing is over.
    End,
}

/// Why a batch was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirError {
    /// An entry does not decode.
    Wire(WireError),
    /// A batch with no entry that does not end the listing: the server made no progress.
    NoProgress,
}

impl core::fmt::Display for DirError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Wire(e) => write!(f, "bad directory batch: {e}"),
            Self::NoProgress => f.write_str("empty directory batch before the end of the listing"),
        }
    }
}

impl core::error::Error for DirError {}

impl DirStream {
    /// A stream at the start of the listing, with no batch yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next entry, or what must happen first.
    pub fn next_entry(&mut self) -> Result<DirStep<'_>, DirError> {
        let (complete, with_attrs) = match self.state {
            State::Empty => return Ok(DirStep::Fetch(self.cookie)),
            State::Batch {
                complete,
                with_attrs,
            } => (complete, with_attrs),
        };
        let rest = self.batch.get(self.pos..).unwrap_or_default();
        let mut entries = DirEntryIter::of(rest, with_attrs);
        match entries.next() {
            None if complete => Ok(DirStep::End),
            None => {
                self.state = State::Empty;
                Ok(DirStep::Fetch(self.cookie))
            }
            Some(Err(e)) => {
                self.state = State::Empty;
                Err(DirError::Wire(e))
            }
            Some(Ok(entry)) => {
                self.pos += rest.len() - entries.remaining();
                self.cookie = entry.cookie;
                Ok(DirStep::Entry(entry))
            }
        }
    }

    /// Takes the batch a `READDIR` from [`DirStep::Fetch`]'s cookie returned.
    ///
    /// The batch is checked whole; a bad one leaves the stream as it was.
    pub fn fill(&mut self, batch: &[u8], complete: bool) -> Result<(), DirError> {
        self.fill_batch(batch, complete, false)
    }

    /// Takes the batch a `READDIRPLUS` from [`DirStep::Fetch`]'s cookie
    /// returned: its entries come with [`DirEntry::attr`] set.
    pub fn fill_with_attrs(&mut self, batch: &[u8], complete: bool) -> Result<(), DirError> {
        self.fill_batch(batch, complete, true)
    }

    fn fill_batch(
        &mut self,
        batch: &[u8],
        complete: bool,
        with_attrs: bool,
    ) -> Result<(), DirError> {
        let mut entries = 0usize;
        for entry in DirEntryIter::of(batch, with_attrs) {
            entry.map_err(DirError::Wire)?;
            entries += 1;
        }
        if entries == 0 && !complete {
            return Err(DirError::NoProgress);
        }
        self.batch.clear();
        self.batch.extend_from_slice(batch);
        self.pos = 0;
        self.state = State::Batch {
            complete,
            with_attrs,
        };
        Ok(())
    }

    /// The position after the last entry handed out, as a cookie.
    pub fn tell(&self) -> u64 {
        self.cookie
    }

    /// Goes to a position [`DirStream::tell`] returned; the next entry comes
    /// from a new batch.
    pub fn seek(&mut self, cookie: u64) {
        self.cookie = cookie;
        self.batch.clear();
        self.pos = 0;
        self.state = State::Empty;
    }

    /// Goes back to the start of the listing.
    pub fn rewind(&mut self) {
        self.seek(0);
    }
}
