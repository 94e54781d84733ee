//! Execution of one request: decoding its fields, calling the backend, building the reply.

use alloc::vec;
use alloc::vec::Vec;

use orfa_wire::{
    AccessMode, DirEntryWriter, ErrorCode, MAX_GROUPS, MAX_PATH, MAX_XATTR_NAME, MAX_XATTR_VALUE,
    MsgKind, OpCode, OpenFlags, PathFlags, ReplyHeader, RequestHeader, SET_ATTR_LEN, SetAttr,
};

use super::{Identity, Session};
use crate::backend::{Backend, Context};
use crate::locks::LockAccess;

/// What a successful operation answers: `value`, `aux` and the data part.
#[derive(Debug, Default)]
pub(super) struct Answer {
    pub(super) value: u64,
    pub(super) aux: u64,
    pub(super) body: Vec<u8>,
}

impl Answer {
    pub(super) fn value(value: u64) -> Self {
        Self {
            value,
            ..Self::default()
        }
    }

    pub(super) fn body(body: Vec<u8>) -> Self {
        Self {
            body,
            ..Self::default()
        }
    }
}

pub(super) type OpResult = Result<Answer, ErrorCode>;

/// Checks a path from a request: length and no NUL byte.
fn check_path(path: &[u8]) -> Result<&[u8], ErrorCode> {
    if path.len() > MAX_PATH {
        Err(ErrorCode::NAMETOOLONG)
    } else if path.contains(&0) {
        Err(ErrorCode::INVAL)
    } else {
        Ok(path)
    }
}

/// Checks the path of an object to create: one naming the base itself (empty,
/// or slashes only) exists already.
fn new_name(path: &[u8]) -> Result<&[u8], ErrorCode> {
    let path = check_path(path)?;
    if path.iter().all(|&b| b == b'/') {
        Err(ErrorCode::EXIST)
    } else {
        Ok(path)
    }
}

/// Splits a data part holding two paths, the first `first_len` long.
fn split_two(data: &[u8], first_len: u64) -> Result<(&[u8], &[u8]), ErrorCode> {
    let (a, b) = split_at(data, first_len)?;
    Ok((check_path(a)?, check_path(b)?))
}

/// The most `max_io`-sized pieces one `COPY_RANGE` copies; a client asks
/// again for the rest.
const COPY_CHUNKS: u64 = 16;

/// Splits `data` after its first `len` bytes.
fn split_at(data: &[u8], len: u64) -> Result<(&[u8], &[u8]), ErrorCode> {
    let len = usize::try_from(len).map_err(|_| ErrorCode::PROTOCOL)?;
    if len > data.len() {
        return Err(ErrorCode::PROTOCOL);
    }
    Ok(data.split_at(len))
}

/// Checks an extended attribute's name and value lengths.
fn check_xattr(name: &[u8], value: &[u8]) -> Result<(), ErrorCode> {
    if name.is_empty() || name.len() > MAX_XATTR_NAME || name.contains(&0) {
        Err(ErrorCode::RANGE)
    } else if value.len() > MAX_XATTR_VALUE {
        Err(ErrorCode::TOO_LARGE)
    } else {
        Ok(())
    }
}

/// Reads a flag field, refusing bits this version does not define.
fn path_flags(h: &RequestHeader) -> Result<PathFlags, ErrorCode> {
    let flags = PathFlags(h.flags.get());
    if flags.unknown_bits() != 0 {
        return Err(ErrorCode::INVAL);
    }
    Ok(flags)
}

/// A mode field as the 32 bits a file mode has.
fn mode(h: &RequestHeader) -> Result<u32, ErrorCode> {
    u32::try_from(h.mode.get()).map_err(|_| ErrorCode::INVAL)
}

impl<N> Session<N> {
    /// Runs one request and returns its reply header and data part, or
    /// `None` for a `LOCK` that waits.
    pub(super) fn dispatch<B: Backend<Node = N>, L: LockAccess>(
        &mut self,
        cx: &Context,
        backend: &mut B,
        locks: &mut L,
        h: &RequestHeader,
        data: &[u8],
    ) -> Option<(ReplyHeader, Vec<u8>)> {
        let tag = h.tag.get();
        let result = if h.opcode().since_minor() > self.minor {
            Err(ErrorCode::UNSUPPORTED)
        } else {
            match h.opcode() {
                OpCode::LOCK => self.lock(backend, locks, h)?,
                OpCode::GETLK => self.getlk(backend, locks, h),
                OpCode::CANCEL => self.cancel(locks, h),
                OpCode::CLOSE => self.close_handle(cx, backend, locks, h.handle.get()),
                OpCode::SHARE => self.share(cx, backend, locks, h),
                _ => self.run(cx, backend, h, data),
            }
        };
        Some(match result {
            Ok(answer) => {
                let reply = ReplyHeader {
                    kind: MsgKind::REPLY.0.into(),
                    tag: tag.into(),
                    value: answer.value.into(),
                    aux: answer.aux.into(),
                    data_len: (answer.body.len() as u64).into(),
                    credits: 1.into(),
                    ..ReplyHeader::default()
                };
                (reply, answer.body)
            }
            Err(code) => (ReplyHeader::failure(tag, code), Vec::new()),
        })
    }

    /// Keeps a new node under a new handle number.
    pub(super) fn add_handle(&mut self, node: N) -> u64 {
        let handle = self.next_handle;
        self.next_handle += 1;
        self.handles.insert(handle, node);
        handle
    }

    /// The node a handle names, or `BADF`.
    pub(super) fn node(&self, handle: u64) -> Result<&N, ErrorCode> {
        self.handles.get(&handle).ok_or(ErrorCode::BADF)
    }

    /// The base of a path operation: `None` for the root handle.
    fn base(&self, handle: u64) -> Result<Option<&N>, ErrorCode> {
        if handle == orfa_wire::ROOT_HANDLE {
            Ok(None)
        } else {
            self.node(handle).map(Some)
        }
    }

    fn run<B: Backend<Node = N>>(
        &mut self,
        cx: &Context,
        backend: &mut B,
        h: &RequestHeader,
        data: &[u8],
    ) -> OpResult {
        let handle = h.handle.get();
        match h.opcode() {
            OpCode::SETCONTEXT => self.set_context(h, data),
            OpCode::OPEN => self.open(cx, backend, h, data),
            OpCode::ATTACH => self.attach(cx, backend, h),
            OpCode::READ => {
                let node = self.node(handle)?;
                let count = h.count.get().min(self.config.max_io) as usize;
                let mut body = vec![0; count];
                let n = backend.read(cx, node, h.offset.get(), &mut body)?;
                body.truncate(n);
                Ok(Answer {
                    value: n as u64,
                    aux: 0,
                    body,
                })
            }
            OpCode::WRITE => {
                let node = self.node(handle)?;
                let append = OpenFlags(h.flags.get()).contains(OpenFlags::APPEND);
                let (n, end) = backend.write(cx, node, h.offset.get(), data, append)?;
                Ok(Answer {
                    value: n as u64,
                    aux: end,
                    body: Vec::new(),
                })
            }
            OpCode::STAT => {
                let attr =
                    backend.stat(cx, self.base(handle)?, check_path(data)?, path_flags(h)?)?;
                Ok(Answer::body(attr.as_wire().to_vec()))
            }
            OpCode::READDIR => self.readdir(cx, backend, h, false),
            OpCode::READDIRPLUS => self.readdir(cx, backend, h, true),
            OpCode::GETXATTR | OpCode::LISTXATTR => self.read_xattr(cx, backend, h, data),
            OpCode::SETXATTR => {
                let (name, rest) = split_at(data, h.count.get())?;
                let (value, path) = split_at(rest, h.arg0.get())?;
                check_xattr(name, value)?;
                let base = self.base(handle)?;
                backend.setxattr(cx, base, check_path(path)?, name, value, path_flags(h)?)?;
                Ok(Answer::default())
            }
            OpCode::REMOVEXATTR => {
                let (name, path) = split_at(data, h.count.get())?;
                check_xattr(name, &[])?;
                let base = self.base(handle)?;
                backend.removexattr(cx, base, check_path(path)?, name, path_flags(h)?)?;
                Ok(Answer::default())
            }
            OpCode::COPY_RANGE => {
                let (from, to) = (self.node(handle)?, self.node(h.arg0.get())?);
                let chunk = self.config.max_io as usize;
                let len = h.count.get().min(COPY_CHUNKS * self.config.max_io);
                let n =
                    backend.copy_range(cx, from, h.offset.get(), to, h.arg1.get(), len, chunk)?;
                Ok(Answer {
                    value: n,
                    ..Answer::default()
                })
            }
            OpCode::FALLOCATE => {
                let flags = path_flags(h)?;
                let node = self.node(handle)?;
                backend.fallocate(cx, node, h.offset.get(), h.count.get(), flags)?;
                Ok(Answer::default())
            }
            OpCode::SEEK => {
                let hole = path_flags(h)?.contains(PathFlags::SEEK_HOLE);
                let at = backend.seek(cx, self.node(handle)?, h.offset.get(), hole)?;
                Ok(Answer {
                    value: at,
                    ..Answer::default()
                })
            }
            OpCode::MKDIR => {
                let mode = mode(h)? & !cx.umask;
                backend.mkdir(cx, self.base(handle)?, new_name(data)?, mode)?;
                Ok(Answer::default())
            }
            OpCode::MKNOD => {
                let (base, path) = (self.base(handle)?, new_name(data)?);
                let mode = mode(h)? & !(cx.umask & 0o7777);
                backend.mknod(cx, base, path, mode, h.arg1.get())?;
                Ok(Answer::default())
            }
            OpCode::UNLINK => {
                backend.unlink(cx, self.base(handle)?, check_path(data)?, path_flags(h)?)?;
                Ok(Answer::default())
            }
            OpCode::RENAME | OpCode::LINK => {
                let (from, to) = split_two(data, h.count.get())?;
                let from_base = self.base(handle)?;
                let to_base = self.base(h.arg0.get())?;
                let flags = path_flags(h)?;
                if h.opcode() == OpCode::RENAME {
                    backend.rename(cx, from_base, from, to_base, to, flags)?;
                } else {
                    backend.link(cx, from_base, from, to_base, to, flags)?;
                }
                Ok(Answer::default())
            }
            OpCode::SYMLINK => {
                let (target, path) = split_two(data, h.count.get())?;
                if target.is_empty() {
                    return Err(ErrorCode::NOENT);
                }
                backend.symlink(cx, target, self.base(handle)?, new_name(path)?)?;
                Ok(Answer::default())
            }
            OpCode::READLINK => {
                let mut body = vec![0; MAX_PATH + 1];
                let n = backend.readlink(cx, self.base(handle)?, check_path(data)?, &mut body)?;
                body.truncate(n);
                Ok(Answer {
                    value: n as u64,
                    aux: 0,
                    body,
                })
            }
            OpCode::SETATTR => {
                let attr = SetAttr::parse(data).map_err(|_| ErrorCode::PROTOCOL)?;
                let path = check_path(&data[SET_ATTR_LEN..])?;
                let base = self.base(handle)?;
                let after = backend.setattr(cx, base, path, &attr, path_flags(h)?)?;
                Ok(Answer::body(after.as_wire().to_vec()))
            }
            OpCode::ACCESS => {
                let access = AccessMode(h.mode.get());
                if access.unknown_bits() != 0 {
                    return Err(ErrorCode::INVAL);
                }
                let base = self.base(handle)?;
                backend.access(cx, base, check_path(data)?, access, path_flags(h)?)?;
                Ok(Answer::default())
            }
            OpCode::FSYNC => {
                let datasync = path_flags(h)?.contains(PathFlags::DATASYNC);
                backend.fsync(cx, self.node(handle)?, datasync)?;
                Ok(Answer::default())
            }
            OpCode::STATFS => {
                let fs = backend.statfs(cx, self.base(handle)?, check_path(data)?)?;
                Ok(Answer::body(fs.as_wire().to_vec()))
            }
            _ => Err(ErrorCode::UNSUPPORTED),
        }
    }

    fn open<B: Backend<Node = N>>(
        &mut self,
        cx: &Context,
        backend: &mut B,
        h: &RequestHeader,
        data: &[u8],
    ) -> OpResult {
        let flags = OpenFlags(h.flags.get());
        if flags.unknown_bits() != 0 {
            return Err(ErrorCode::INVAL);
        }
        if self.handles.len() >= self.config.max_handles {
            return Err(ErrorCode::MFILE);
        }
        let base = self.base(h.handle.get())?;
        let mode = mode(h)? & !cx.umask;
        let (node, attr) = backend.open(cx, base, check_path(data)?, flags, mode)?;
        let handle = self.add_handle(node);
        Ok(Answer {
            value: handle,
            aux: 0,
            body: attr.as_wire().to_vec(),
        })
    }

    /// `GETXATTR` and `LISTXATTR`: a value or list into a buffer of at most
    /// what the client asked for.
    fn read_xattr<B: Backend<Node = N>>(
        &mut self,
        cx: &Context,
        backend: &mut B,
        h: &RequestHeader,
        data: &[u8],
    ) -> OpResult {
        let base = self.base(h.handle.get())?;
        let flags = path_flags(h)?;
        // Held until the reply is sent: within what a read may hold.
        let cap = (MAX_XATTR_VALUE as u64).min(self.config.max_io);
        let mut body = vec![0; h.arg0.get().min(cap) as usize];
        let len = if h.opcode() == OpCode::GETXATTR {
            let (name, path) = split_at(data, h.count.get())?;
            check_xattr(name, &[])?;
            backend.getxattr(cx, base, check_path(path)?, name, &mut body, flags)?
        } else {
            backend.listxattr(cx, base, check_path(data)?, &mut body, flags)?
        };
        body.truncate(if body.is_empty() {
            0
        } else {
            len.min(body.len())
        });
        Ok(Answer {
            value: len as u64,
            aux: 0,
            body,
        })
    }

    /// Records who the client acts as: `arg0` uid, `arg1` gid, `mode` umask,
    /// and `count` supplementary groups as 64-bit values in the data part.
    fn set_context(&mut self, h: &RequestHeader, data: &[u8]) -> OpResult {
        let id32 = |v: u64| u32::try_from(v).map_err(|_| ErrorCode::INVAL);
        let count = usize::try_from(h.count.get()).map_err(|_| ErrorCode::INVAL)?;
        if count > MAX_GROUPS || data.len() != count * 8 {
            return Err(ErrorCode::INVAL);
        }
        let groups = data
            .chunks_exact(8)
            .map(|c| id32(u64::from_le_bytes(c.try_into().unwrap_or_default())))
            .collect::<Result<Vec<u32>, _>>()?;
        let umask = id32(h.mode.get())?;
        if umask & !0o777 != 0 {
            return Err(ErrorCode::INVAL);
        }
        self.identity = Some(Identity {
            uid: id32(h.arg0.get())?,
            gid: id32(h.arg1.get())?,
            groups: groups.into(),
            umask,
        });
        Ok(Answer::default())
    }

    fn readdir<B: Backend<Node = N>>(
        &mut self,
        cx: &Context,
        backend: &mut B,
        h: &RequestHeader,
        with_attrs: bool,
    ) -> OpResult {
        let node = self.node(h.handle.get())?;
        let mut body = vec![0; h.count.get().min(self.config.max_io) as usize];
        let mut out = if with_attrs {
            DirEntryWriter::with_attrs(&mut body)
        } else {
            DirEntryWriter::new(&mut body)
        };
        let eof = backend.readdir(cx, node, h.offset.get(), &mut out)?;
        if out.is_empty() && !eof {
            // Not even one entry fits in what the client asked for.
            return Err(ErrorCode::INVAL);
        }
        let (count, len) = (out.count() as u64, out.len());
        body.truncate(len);
        Ok(Answer {
            value: count,
            aux: u64::from(eof),
            body,
        })
    }
}
