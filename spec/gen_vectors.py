#!/usr/bin/env python3
"""Writes spec/vectors.json: the golden byte vectors of the ORFA protocol.

This encoder is written from PROTOCOL.md alone, independently of the Rust
crate `orfa-wire`; `orfa-wire/tests/vectors.rs` checks the crate against
its output. Run it from anywhere: `python3 spec/gen_vectors.py`. The output
is deterministic.
"""

import json
import os
import struct

# --- Layouts: every field is a u64, little-endian, in this order. ---------

STRUCTS = {
    "ClientHello": ["magic", "version", "flags", "reserved"],
    "ServerHello": ["magic", "version", "status", "eager_limit", "credits", "max_io",
                    "reserved0", "reserved1"],
    "RequestHeader": ["op", "tag", "handle", "data_len", "offset", "count", "flags",
                      "mode", "arg0", "arg1"],
    "ReplyHeader": ["kind", "tag", "status", "value", "aux", "data_len", "credits"],
    "Attr": ["mask", "ino", "mode", "nlink", "uid", "gid", "rdev", "size", "blksize",
             "blocks", "dev", "attributes", "atime_sec", "atime_nsec", "mtime_sec",
             "mtime_nsec", "ctime_sec", "ctime_nsec", "btime_sec", "btime_nsec"],
    "SetAttr": ["valid", "mode", "uid", "gid", "size", "atime_sec", "atime_nsec",
                "mtime_sec", "mtime_nsec", "reserved"],
    "FsAttr": ["bsize", "frsize", "blocks", "bfree", "bavail", "files", "ffree",
               "namemax", "fsid", "flags"],
    "LockInfo": ["lock_type", "start", "len", "owner_kind", "pid"],
    "DirEntryHeader": ["ino", "cookie", "file_type", "name_len"],
}

CODES = {
    "OpCode": {
        "OPEN": 1, "CLOSE": 2, "READ": 3, "WRITE": 4, "STAT": 5, "READDIR": 6, "MKDIR": 7,
        "UNLINK": 8, "RENAME": 9, "LINK": 10, "SYMLINK": 11, "READLINK": 12, "SETATTR": 13,
        "ACCESS": 14, "FSYNC": 15, "STATFS": 16, "MKNOD": 17, "SETCONTEXT": 18, "LOCK": 19,
        "GETLK": 20, "GETXATTR": 21, "SETXATTR": 22, "LISTXATTR": 23, "REMOVEXATTR": 24,
        "READDIRPLUS": 25, "COPY_RANGE": 26, "FALLOCATE": 27, "SEEK": 28, "CANCEL": 29,
        "SHARE": 30, "ATTACH": 31,
        "DATA": 0x100,
    },
    "MsgKind": {"REPLY": 1, "CLEAR_TO_SEND": 2},
    "ErrorCode": {
        "OK": 0, "PERM": 1, "NOENT": 2, "INTR": 4, "IO": 5, "NXIO": 6, "BADF": 9,
        "AGAIN": 11, "NOMEM": 12, "ACCES": 13, "BUSY": 16, "EXIST": 17, "XDEV": 18,
        "NODEV": 19, "NOTDIR": 20, "ISDIR": 21, "INVAL": 22, "NFILE": 23, "MFILE": 24, "TXTBSY": 26,
        "FBIG": 27, "NOSPC": 28, "SPIPE": 29, "ROFS": 30, "MLINK": 31, "RANGE": 34,
        "DEADLK": 35, "NAMETOOLONG": 36, "NOLCK": 37, "NOSYS": 38, "NOTEMPTY": 39,
        "LOOP": 40, "NODATA": 61, "OVERFLOW": 75, "NOTSUP": 95, "STALE": 116, "DQUOT": 122,
        "PROTOCOL": 0x1000, "UNSUPPORTED": 0x1001, "TOO_LARGE": 0x1002, "ESCAPE": 0x1003,
    },
    "LockType": {"UNLOCK": 0, "READ": 1, "WRITE": 2},
    "LockOwnerKind": {"POSIX": 0, "HANDLE": 1, "FLOCK": 2},
    "FileType": {"FIFO": 0o010000, "CHAR": 0o020000, "DIR": 0o040000, "BLOCK": 0o060000,
                 "REGULAR": 0o100000, "SYMLINK": 0o120000, "SOCKET": 0o140000},
}

FLAGS = {
    "OpenFlags": {"READ": 0x1, "WRITE": 0x2, "CREATE": 0x4, "EXCL": 0x8, "TRUNC": 0x10,
                  "APPEND": 0x20, "DIRECTORY": 0x40, "NOFOLLOW": 0x80, "PATH": 0x100,
                  "SYNC": 0x200},
    "PathFlags": {"NOFOLLOW": 0x1, "REMOVEDIR": 0x2, "DATASYNC": 0x4, "NOREPLACE": 0x8,
                  "EXCHANGE": 0x10, "EACCESS": 0x20, "XATTR_CREATE": 0x40,
                  "XATTR_REPLACE": 0x80, "WAIT": 0x100, "KEEP_SIZE": 0x200,
                  "PUNCH_HOLE": 0x400, "ZERO_RANGE": 0x800, "SEEK_HOLE": 0x1000},
    "AccessMode": {"EXEC": 1, "WRITE": 2, "READ": 4},
    "AttrMask": {"TYPE": 0x1, "MODE": 0x2, "NLINK": 0x4, "UID": 0x8, "GID": 0x10,
                 "ATIME": 0x20, "MTIME": 0x40, "CTIME": 0x80, "INO": 0x100, "SIZE": 0x200,
                 "BLOCKS": 0x400, "BTIME": 0x800},
    "SetAttrMask": {"MODE": 0x1, "UID": 0x2, "GID": 0x4, "SIZE": 0x8, "ATIME": 0x10,
                    "ATIME_NOW": 0x20, "MTIME": 0x40, "MTIME_NOW": 0x80},
}

# The Linux errno a client reports for each code (generic numbering).
ERRNO = {name: value for name, value in CODES["ErrorCode"].items() if value < 0x1000}
ERRNO.update({"PROTOCOL": 71, "UNSUPPORTED": 38, "TOO_LARGE": 90, "ESCAPE": 13})

CONSTANTS = {
    "MAGIC": int.from_bytes(b"ORFAwire", "little"),
    "VERSION_MAJOR": 1, "VERSION_MINOR": 2,
    "DEFAULT_EAGER_LIMIT": 65536, "DEFAULT_CREDITS": 16, "DEFAULT_MAX_IO": 1 << 20,
    "MAX_PATH": 4095, "MAX_NAME": 255, "MAX_GROUPS": 1024, "MAX_XATTR_NAME": 255,
    "MAX_XATTR_VALUE": 65536, "ROOT_HANDLE": 0,
}


def code(table, name):
    return CODES[table][name]


def flags(table, *names):
    v = 0
    for n in names:
        v |= FLAGS[table][n]
    return v


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def encode_struct(kind, fields):
    unknown = set(fields) - set(STRUCTS[kind])
    assert not unknown, (kind, unknown)
    return b"".join(u64(fields.get(f, 0)) for f in STRUCTS[kind])


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


def encode_segment(seg):
    (kind, value), = seg.items()
    if kind == "text":
        return value.encode()
    if kind == "hex":
        return bytes.fromhex(value)
    if kind == "u64":
        return b"".join(u64(v) for v in value)
    if kind in ("entries", "entries_with_attrs"):
        out = b""
        for e in value:
            name = e["name"].encode()
            out += encode_struct("DirEntryHeader", {
                "ino": e["ino"], "cookie": e["cookie"], "file_type": e["file_type"],
                "name_len": len(name)})
            if kind == "entries_with_attrs":
                out += encode_struct("Attr", e["attr"])
            out += pad8(name)
        return out
    return encode_struct(kind, value)


# --- Sample values. --------------------------------------------------------

T0 = 1_700_000_000  # 2023-11-14
S_IFREG, S_IFDIR, S_IFLNK = 0o100000, 0o040000, 0o120000
BASIC = 0x7FF

ATTR_FILE = {
    "mask": BASIC | 0x800, "ino": 1042, "mode": S_IFREG | 0o644, "nlink": 1, "uid": 1000,
    "gid": 1000, "size": 13, "blksize": 4096, "blocks": 8, "dev": 0x803,
    "atime_sec": T0, "atime_nsec": 123_456_789, "mtime_sec": T0 + 60, "mtime_nsec": 5,
    "ctime_sec": T0 + 60, "ctime_nsec": 5, "btime_sec": T0, "btime_nsec": 0,
}
ATTR_DIR = {
    "mask": BASIC, "ino": 2, "mode": S_IFDIR | 0o755, "nlink": 3, "uid": 0, "gid": 0,
    "size": 4096, "blksize": 4096, "blocks": 8, "dev": 0x803,
    "atime_sec": -86400, "atime_nsec": 0, "mtime_sec": T0, "mtime_nsec": 999_999_999,
    "ctime_sec": T0, "ctime_nsec": 999_999_999,
}
ATTR_LINK = {
    "mask": BASIC, "ino": 77, "mode": S_IFLNK | 0o777, "nlink": 1, "uid": 1000, "gid": 100,
    "size": 18, "blksize": 4096, "dev": 0x803, "attributes": 0,
    "atime_sec": T0, "mtime_sec": T0, "ctime_sec": T0,
}
FS = {"bsize": 4096, "frsize": 4096, "blocks": 26_214_400, "bfree": 10_000_000,
      "bavail": 9_000_000, "files": 6_553_600, "ffree": 6_000_000, "namemax": 255,
      "fsid": 0x1234_5678_9ABC_DEF0, "flags": 2}

OP = lambda n: code("OpCode", n)  # noqa: E731
OF = lambda *n: flags("OpenFlags", *n)  # noqa: E731
PF = lambda *n: flags("PathFlags", *n)  # noqa: E731


def request(name, about, header, data=(), data_follows=True, since="1.0"):
    return {"name": name, "about": about, "since": since, "type": "RequestHeader",
            "header": header, "data": list(data), "data_follows": data_follows}


def reply(name, about, header, data=()):
    return {"name": name, "about": about, "type": "ReplyHeader", "header": header,
            "data": list(data), "data_follows": True}


OK_REPLY = {"kind": 1, "credits": 1}


def ok(tag, **kw):
    h = dict(OK_REPLY, tag=tag)
    h.update(kw)
    return h


MESSAGES = [
    {"name": "client_hello", "about": "a client of version 1.2 opens the session",
     "type": "ClientHello", "header": {"magic": CONSTANTS["MAGIC"], "version": 0x10002},
     "data": [], "data_follows": True},
    {"name": "server_hello", "about": "the server accepts with the default limits",
     "type": "ServerHello",
     "header": {"magic": CONSTANTS["MAGIC"], "version": 0x10002, "status": 0,
                "eager_limit": 65536, "credits": 16, "max_io": 1 << 20},
     "data": [], "data_follows": True},
    {"name": "server_hello_1_0", "about": "a 1.0 server answers a 1.2 client with 1.0",
     "type": "ServerHello",
     "header": {"magic": CONSTANTS["MAGIC"], "version": 0x10000, "status": 0,
                "eager_limit": 4096, "credits": 4, "max_io": 65536},
     "data": [], "data_follows": True},
    {"name": "server_hello_refused", "about": "a client of major 2 is refused",
     "type": "ServerHello",
     "header": {"magic": CONSTANTS["MAGIC"], "version": 0x10002, "status": 0x1001,
                "eager_limit": 65536, "credits": 16, "max_io": 1 << 20},
     "data": [], "data_follows": True},
    # --- Requests of 1.0 ---
    request("open_create", "open(\"home/alice/notes.txt\", O_RDWR|O_CREAT|O_TRUNC, 0644)",
            {"op": OP("OPEN"), "tag": 1, "handle": 0, "data_len": 20,
             "flags": OF("READ", "WRITE", "CREATE", "TRUNC"), "mode": 0o644},
            [{"text": "home/alice/notes.txt"}]),
    request("open_directory", "openat(dirfd 3, \"src\", O_RDONLY|O_DIRECTORY)",
            {"op": OP("OPEN"), "tag": 2, "handle": 3, "data_len": 3,
             "flags": OF("READ", "DIRECTORY")}, [{"text": "src"}]),
    request("close", "close of handle 7", {"op": OP("CLOSE"), "tag": 3, "handle": 7}),
    request("read", "pread(h7, 65536 bytes at 4096)",
            {"op": OP("READ"), "tag": 4, "handle": 7, "offset": 4096, "count": 65536}),
    request("write", "pwrite(h7, \"hello, world\\n\" at 8192)",
            {"op": OP("WRITE"), "tag": 5, "handle": 7, "data_len": 13, "offset": 8192},
            [{"text": "hello, world\n"}]),
    request("write_append", "write on an O_APPEND descriptor",
            {"op": OP("WRITE"), "tag": 6, "handle": 7, "data_len": 4,
             "flags": OF("APPEND")}, [{"text": "tail"}]),
    request("write_rendezvous", "a 100-byte write to a server whose eager limit is 64: "
            "the header goes alone", {"op": OP("WRITE"), "tag": 7, "handle": 7,
                                      "data_len": 100, "offset": 0},
            [], data_follows=False),
    request("data", "the DATA message after the clear-to-send of tag 7",
            {"op": OP("DATA"), "tag": 7, "data_len": 100}, [{"hex": "ab" * 100}]),
    request("stat", "stat(\"etc/hosts\") asking for the basic fields",
            {"op": OP("STAT"), "tag": 8, "data_len": 9, "count": BASIC},
            [{"text": "etc/hosts"}]),
    request("lstat_empty_path", "fstatat(h5, \"\", AT_EMPTY_PATH|AT_SYMLINK_NOFOLLOW)",
            {"op": OP("STAT"), "tag": 9, "handle": 5, "flags": PF("NOFOLLOW")}),
    request("readdir", "the first batch of directory handle 4, at most 4096 bytes",
            {"op": OP("READDIR"), "tag": 10, "handle": 4, "offset": 0, "count": 4096}),
    request("readdir_resume", "the next batch, from the cookie of the last entry",
            {"op": OP("READDIR"), "tag": 11, "handle": 4, "offset": 3, "count": 4096}),
    request("mkdir", "mkdir(\"build/out\", 0755)",
            {"op": OP("MKDIR"), "tag": 12, "data_len": 9, "mode": 0o755},
            [{"text": "build/out"}]),
    request("unlink", "unlink(\"tmp/old.log\")",
            {"op": OP("UNLINK"), "tag": 13, "data_len": 11}, [{"text": "tmp/old.log"}]),
    request("rmdir", "unlinkat(h4, \"cache\", AT_REMOVEDIR)",
            {"op": OP("UNLINK"), "tag": 14, "handle": 4, "data_len": 5,
             "flags": PF("REMOVEDIR")}, [{"text": "cache"}]),
    request("rename", "renameat2(h4, \"a.txt\", h9, \"b.txt\", RENAME_NOREPLACE)",
            {"op": OP("RENAME"), "tag": 15, "handle": 4, "arg0": 9, "data_len": 10,
             "count": 5, "flags": PF("NOREPLACE")}, [{"text": "a.txt"}, {"text": "b.txt"}]),
    request("rename_exchange", "renameat2(AT_FDCWD, \"x\", AT_FDCWD, \"dir/y\", RENAME_EXCHANGE)",
            {"op": OP("RENAME"), "tag": 16, "data_len": 6, "count": 1,
             "flags": PF("EXCHANGE")}, [{"text": "x"}, {"text": "dir/y"}]),
    request("link", "link(\"data/v1\", \"data/latest\") (follows a symbolic link source)",
            {"op": OP("LINK"), "tag": 17, "data_len": 18, "count": 7},
            [{"text": "data/v1"}, {"text": "data/latest"}]),
    request("link_nofollow", "linkat without AT_SYMLINK_FOLLOW: links a symbolic link itself",
            {"op": OP("LINK"), "tag": 18, "handle": 4, "arg0": 4, "data_len": 7,
             "count": 3, "flags": PF("NOFOLLOW")}, [{"text": "lnk"}, {"text": "lnk2"}]),
    request("symlink", "symlink(\"../lib/libfoo.so.1\", \"lib/libfoo.so\")",
            {"op": OP("SYMLINK"), "tag": 19, "data_len": 31, "count": 18},
            [{"text": "../lib/libfoo.so.1"}, {"text": "lib/libfoo.so"}]),
    request("readlink", "readlink(\"lib/libfoo.so\")",
            {"op": OP("READLINK"), "tag": 20, "data_len": 13}, [{"text": "lib/libfoo.so"}]),
    request("setattr_truncate", "truncate(\"data.bin\", 1 MiB)",
            {"op": OP("SETATTR"), "tag": 21, "data_len": 88},
            [{"SetAttr": {"valid": flags("SetAttrMask", "SIZE"), "size": 1 << 20}},
             {"text": "data.bin"}]),
    request("setattr_chmod_chown", "fchownat + fchmodat of an open handle (empty path)",
            {"op": OP("SETATTR"), "tag": 22, "handle": 7, "data_len": 80},
            [{"SetAttr": {"valid": flags("SetAttrMask", "MODE", "UID", "GID"),
                          "mode": 0o600, "uid": 1000, "gid": 100}}]),
    request("setattr_utimensat", "utimensat(\"f\", {UTIME_NOW, {T0, 5 ns}}, AT_SYMLINK_NOFOLLOW)",
            {"op": OP("SETATTR"), "tag": 23, "data_len": 81, "flags": PF("NOFOLLOW")},
            [{"SetAttr": {"valid": flags("SetAttrMask", "ATIME_NOW", "MTIME"),
                          "mtime_sec": T0, "mtime_nsec": 5}}, {"text": "f"}]),
    request("access", "faccessat(\"bin/tool\", R_OK|X_OK, AT_EACCESS)",
            {"op": OP("ACCESS"), "tag": 24, "data_len": 8, "mode": 5,
             "flags": PF("EACCESS")}, [{"text": "bin/tool"}]),
    request("fsync", "fdatasync(h7)",
            {"op": OP("FSYNC"), "tag": 25, "handle": 7, "flags": PF("DATASYNC")}),
    request("statfs", "statvfs of the export root",
            {"op": OP("STATFS"), "tag": 26}),
    request("mknod_fifo", "mkfifo(\"run/pipe\", 0644)",
            {"op": OP("MKNOD"), "tag": 27, "data_len": 8, "mode": 0o010644},
            [{"text": "run/pipe"}]),
    request("mknod_char", "mknod(\"dev/null\", S_IFCHR|0666, makedev(1, 3))",
            {"op": OP("MKNOD"), "tag": 28, "data_len": 8, "mode": 0o020666,
             "arg1": 0x103}, [{"text": "dev/null"}]),
    # --- Requests of 1.1 ---
    request("setcontext", "uid 1000, gid 1000, umask 022, groups 4, 24, 27, 1000",
            {"op": OP("SETCONTEXT"), "tag": 29, "data_len": 32, "count": 4,
             "mode": 0o022, "arg0": 1000, "arg1": 1000},
            [{"u64": [4, 24, 27, 1000]}], since="1.1"),
    request("lock_posix_wait", "fcntl(F_SETLKW) write lock of bytes 100..150 by pid 4242",
            {"op": OP("LOCK"), "tag": 30, "handle": 7, "offset": 100, "count": 50,
             "mode": code("LockType", "WRITE"), "arg0": 4242,
             "arg1": code("LockOwnerKind", "POSIX"), "flags": PF("WAIT")}, since="1.1"),
    request("lock_flock", "flock(LOCK_SH | LOCK_NB): a whole-file lock owned by the handle",
            {"op": OP("LOCK"), "tag": 31, "handle": 7, "mode": code("LockType", "READ"),
             "arg1": code("LockOwnerKind", "FLOCK")}, since="1.1"),
    request("lock_ofd", "fcntl(F_OFD_SETLK) write lock of bytes 0..4096, owned by the handle",
            {"op": OP("LOCK"), "tag": 47, "handle": 7, "count": 4096,
             "mode": code("LockType", "WRITE"), "arg1": code("LockOwnerKind", "HANDLE")},
            since="1.1"),
    request("unlock", "fcntl(F_SETLK, F_UNLCK) of everything pid 4242 holds",
            {"op": OP("LOCK"), "tag": 32, "handle": 7, "mode": code("LockType", "UNLOCK"),
             "arg0": 4242}, since="1.1"),
    request("getlk", "fcntl(F_GETLK) for a read lock of the whole file",
            {"op": OP("GETLK"), "tag": 33, "handle": 7, "mode": code("LockType", "READ"),
             "arg0": 4243}, since="1.1"),
    request("getxattr", "getxattr(\"photo.jpg\", \"user.mime_type\", buf, 256)",
            {"op": OP("GETXATTR"), "tag": 34, "data_len": 23, "count": 14, "arg0": 256},
            [{"text": "user.mime_type"}, {"text": "photo.jpg"}], since="1.1"),
    request("getxattr_size", "lgetxattr(h7, \"\", \"security.selinux\", NULL, 0): length only",
            {"op": OP("GETXATTR"), "tag": 35, "handle": 7, "data_len": 16, "count": 16,
             "flags": PF("NOFOLLOW")}, [{"text": "security.selinux"}], since="1.1"),
    request("setxattr", "setxattr(\"photo.jpg\", \"user.mime_type\", \"image/jpeg\", XATTR_CREATE)",
            {"op": OP("SETXATTR"), "tag": 36, "data_len": 33, "count": 14, "arg0": 10,
             "flags": PF("XATTR_CREATE")},
            [{"text": "user.mime_type"}, {"text": "image/jpeg"}, {"text": "photo.jpg"}],
            since="1.1"),
    request("listxattr", "listxattr(\"photo.jpg\", buf, 1024)",
            {"op": OP("LISTXATTR"), "tag": 37, "data_len": 9, "arg0": 1024},
            [{"text": "photo.jpg"}], since="1.1"),
    request("removexattr", "removexattr(\"photo.jpg\", \"user.mime_type\")",
            {"op": OP("REMOVEXATTR"), "tag": 38, "data_len": 23, "count": 14},
            [{"text": "user.mime_type"}, {"text": "photo.jpg"}], since="1.1"),
    request("readdirplus", "the first batch of directory handle 4 with attributes",
            {"op": OP("READDIRPLUS"), "tag": 39, "handle": 4, "count": 65536}, since="1.1"),
    request("copy_range", "copy_file_range(h7 at 0, h8 at 4096, 1 MiB)",
            {"op": OP("COPY_RANGE"), "tag": 40, "handle": 7, "arg0": 8, "offset": 0,
             "arg1": 4096, "count": 1 << 20}, since="1.1"),
    request("fallocate_punch", "fallocate(h7, PUNCH_HOLE|KEEP_SIZE, 8192, 4096)",
            {"op": OP("FALLOCATE"), "tag": 41, "handle": 7, "offset": 8192, "count": 4096,
             "flags": PF("KEEP_SIZE", "PUNCH_HOLE")}, since="1.1"),
    request("posix_fallocate", "posix_fallocate(h7, 0, 10 MiB)",
            {"op": OP("FALLOCATE"), "tag": 42, "handle": 7, "count": 10 << 20},
            since="1.1"),
    request("seek_data", "lseek(h7, 0, SEEK_DATA)",
            {"op": OP("SEEK"), "tag": 43, "handle": 7}, since="1.1"),
    request("seek_hole", "lseek(h7, 4096, SEEK_HOLE)",
            {"op": OP("SEEK"), "tag": 44, "handle": 7, "offset": 4096,
             "flags": PF("SEEK_HOLE")}, since="1.1"),
    request("cancel", "withdraws the waiting LOCK of tag 30",
            {"op": OP("CANCEL"), "tag": 45, "arg0": 30}, since="1.1"),
    # --- Requests of 1.2 ---
    request("share", "before a fork: makes handle 7's open file attachable",
            {"op": OP("SHARE"), "tag": 48, "handle": 7}, since="1.2"),
    request("attach", "a forked child's session attaches to the shared open file",
            {"op": OP("ATTACH"), "tag": 49, "arg0": 0x5D1A_77C3_0B2E_9F41}, since="1.2"),
    request("unknown_op", "an operation this version does not know (answered UNSUPPORTED)",
            {"op": 0x7F, "tag": 46}),
    # --- Replies ---
    reply("reply_open", "OPEN: handle 7 and the attributes of the file",
          ok(1, value=7, data_len=160), [{"Attr": ATTR_FILE}]),
    reply("reply_read", "READ: 13 bytes, the end of file",
          ok(4, value=13, data_len=13), [{"text": "hello, world\n"}]),
    reply("reply_write", "WRITE: 13 bytes written, ending at offset 8205",
          ok(5, value=13, aux=8205)),
    reply("reply_stat_dir", "STAT of a directory (its access time before 1970)",
          ok(8, data_len=160), [{"Attr": ATTR_DIR}]),
    reply("reply_setattr_symlink", "SETATTR: the attributes of a symbolic link after the change",
          ok(23, data_len=160), [{"Attr": ATTR_LINK}]),
    reply("reply_readdir", "READDIR: three entries, the listing is complete",
          ok(10, value=3, aux=1, data_len=144),
          [{"entries": [
              {"ino": 1042, "cookie": 1, "file_type": S_IFREG, "name": "README.md"},
              {"ino": 1043, "cookie": 2, "file_type": S_IFDIR, "name": "src"},
              {"ino": 1044, "cookie": 3, "file_type": 0, "name": "a_longer_name.txt"}]}]),
    reply("reply_readdir_empty", "READDIR: no entries left", ok(11, aux=1)),
    reply("reply_readdirplus", "READDIRPLUS: two entries, the second without attributes; more follow",
          ok(39, value=2, aux=0, data_len=408),
          [{"entries_with_attrs": [
              {"ino": 1042, "cookie": 1, "file_type": S_IFREG, "name": "notes.txt",
               "attr": ATTR_FILE},
              {"ino": 77, "cookie": 2, "file_type": S_IFLNK, "name": "lnk", "attr": {}}]}]),
    reply("reply_readlink", "READLINK: the target",
          ok(20, value=18, data_len=18), [{"text": "../lib/libfoo.so.1"}]),
    reply("reply_statfs", "STATFS", ok(26, data_len=80), [{"FsAttr": FS}]),
    reply("reply_getlk_conflict", "GETLK: a write lock of pid 977 conflicts",
          ok(33, data_len=40),
          [{"LockInfo": {"lock_type": 2, "start": 0, "len": 0, "owner_kind": 0,
                         "pid": 977}}]),
    reply("reply_getlk_flock", "GETLK of a FLOCK lock: a flock lock conflicts",
          ok(33, data_len=40),
          [{"LockInfo": {"lock_type": 2, "start": 0, "len": 0, "owner_kind": 2,
                         "pid": 0xFFFFFFFFFFFFFFFF}}]),
    reply("reply_getlk_handle", "GETLK: an open file description lock conflicts",
          ok(33, data_len=40),
          [{"LockInfo": {"lock_type": 1, "start": 0, "len": 4096, "owner_kind": 1,
                         "pid": 0xFFFFFFFFFFFFFFFF}}]),
    reply("reply_getlk_none", "GETLK: nothing conflicts",
          ok(33, data_len=40), [{"LockInfo": {}}]),
    reply("reply_getxattr", "GETXATTR: the value",
          ok(34, value=10, data_len=10), [{"text": "image/jpeg"}]),
    reply("reply_getxattr_size", "GETXATTR with arg0 0: the length only",
          ok(35, value=31)),
    reply("reply_listxattr", "LISTXATTR: two names, each ended by NUL",
          ok(37, value=22, data_len=22), [{"text": "user.a\u0000user.mime_type\u0000"}]),
    reply("reply_copy_range", "COPY_RANGE: 1 MiB copied", ok(40, value=1 << 20)),
    reply("reply_seek", "SEEK: the next data is at 65536", ok(43, value=65536)),
    reply("reply_share", "SHARE: the token of the open file",
          ok(48, value=0x5D1A_77C3_0B2E_9F41)),
    reply("reply_attach", "ATTACH: handle 3 in this session, and the file's attributes",
          ok(49, value=3, data_len=160), [{"Attr": ATTR_FILE}]),
    reply("error_stale", "ATTACH of an open file that is gone",
          {"kind": 1, "tag": 49, "status": 116, "credits": 1}),
    reply("reply_done", "a success without results (MKDIR)", ok(12)),
    reply("clear_to_send", "CLEAR_TO_SEND for the 100-byte write of tag 7",
          {"kind": 2, "tag": 7, "value": 100}),
    reply("error_noent", "STAT of a missing path", {"kind": 1, "tag": 8, "status": 2, "credits": 1}),
    reply("error_unsupported", "an unknown operation",
          {"kind": 1, "tag": 46, "status": 0x1001, "credits": 1}),
    reply("error_too_large", "a rendezvous refused: larger than max_io",
          {"kind": 1, "tag": 7, "status": 0x1002, "credits": 1}),
    reply("error_intr", "the cancelled waiting LOCK", {"kind": 1, "tag": 30, "status": 4, "credits": 1}),
    reply("error_again", "LOCK without WAIT meets a conflict",
          {"kind": 1, "tag": 31, "status": 11, "credits": 1}),
    reply("error_escape", "a path that leaves the export",
          {"kind": 1, "tag": 2, "status": 0x1003, "credits": 1}),
]

STRUCTURE_VECTORS = [
    {"name": "attr_file", "type": "Attr", "fields": ATTR_FILE},
    {"name": "attr_dir", "type": "Attr", "fields": ATTR_DIR},
    {"name": "setattr_all", "type": "SetAttr",
     "fields": {"valid": 0xFF, "mode": 0o4755, "uid": 1000, "gid": 100, "size": 12345,
                "atime_sec": -1, "atime_nsec": 999_999_999, "mtime_sec": T0,
                "mtime_nsec": 1}},
    {"name": "fsattr", "type": "FsAttr", "fields": FS},
    {"name": "lockinfo", "type": "LockInfo",
     "fields": {"lock_type": 1, "start": 100, "len": 50, "owner_kind": 0, "pid": 4242}},
    {"name": "dir_entry_header", "type": "DirEntryHeader",
     "fields": {"ino": 1042, "cookie": 7, "file_type": S_IFREG, "name_len": 9}},
]


def build():
    for m in MESSAGES:
        head = encode_struct(m["type"], m["header"])
        data = b"".join(encode_segment(s) for s in m["data"])
        if m["type"] in ("RequestHeader", "ReplyHeader") and m["data_follows"]:
            assert m["header"].get("data_len", 0) == len(data), (m["name"], len(data))
        m["hex"] = (head + data).hex()
    for s in STRUCTURE_VECTORS:
        s["hex"] = encode_struct(s["type"], s["fields"]).hex()
    return {
        "about": "Golden vectors of the ORFA protocol 1.1 (spec/PROTOCOL.md), written by "
                 "spec/gen_vectors.py. Every field is a u64 (negative numbers: two's "
                 "complement). A message is its header's fields in order, then its data "
                 "segments: text (UTF-8 bytes), hex, u64 (each little-endian), a structure "
                 "by name, entries (a plain directory batch) or entries_with_attrs "
                 "(a READDIRPLUS batch). data_follows false: the header is sent alone "
                 "(rendezvous). Fields not given are zero.",
        "constants": CONSTANTS,
        "structures": {k: {"size": 8 * len(v), "fields": v} for k, v in STRUCTS.items()},
        "codes": CODES,
        "flags": FLAGS,
        "errno": ERRNO,
        "structure_vectors": STRUCTURE_VECTORS,
        "messages": MESSAGES,
    }


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
    with open(out, "w") as f:
        json.dump(build(), f, indent=1)
        f.write("\n")
