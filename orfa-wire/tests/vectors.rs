//! The golden vectors of `spec/vectors.json` and the tables of
//! `spec/PROTOCOL.md`, checked against the crate: every message is built
//! from its fields and compared byte for byte, parsed back and compared
//! field by field, and every code, flag, errno and layout of the document
//! agrees with the crate's.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Fields, STRUCTS, layout_of, size_of};
use orfa_wire::{
    AccessMode, Attr, AttrMask, ClientHello, DirEntry, DirEntryHeader, DirEntryIter,
    DirEntryWriter, ErrorCode, FileType, FsAttr, LockInfo, LockOwnerKind, LockType, MsgKind,
    OpCode, OpenFlags, PathFlags, ReplyHeader, RequestHeader, ServerHello, SetAttr, SetAttrMask,
};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vectors.json");
    let text = std::fs::read_to_string(path).expect("spec/vectors.json");
    serde_json::from_str(&text).expect("vectors.json is JSON")
}

fn spec() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/PROTOCOL.md");
    std::fs::read_to_string(path).expect("spec/PROTOCOL.md")
}

/// A field value: a u64, or a negative number meaning its two's complement.
fn num(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_i64().map(|i| i as u64))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

fn object(v: &Value) -> &serde_json::Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// The structure with the fields of `fields` (the others zero).
fn build<T: Fields>(fields: &Value) -> T {
    let mut v = T::default();
    for (name, value) in object(fields) {
        assert!(v.set(name, num(value)), "{} has no field {name}", T::NAME);
    }
    v
}

/// Checks every field of `got` against `fields` (absent ones must be zero).
fn check<T: Fields>(got: &T, fields: &Value, what: &str) {
    let fields = object(fields);
    for (name, _) in T::layout() {
        let want = fields.get(name).map_or(0, num);
        assert_eq!(
            got.get(name),
            Some(want),
            "{what}: field {}.{name}",
            T::NAME
        );
    }
}

/// The bytes of a data segment, built with the crate.
fn encode_segment(segment: &Value) -> Vec<u8> {
    let (kind, value) = object(segment).iter().next().expect("a segment");
    match kind.as_str() {
        "text" => value.as_str().expect("text").as_bytes().to_vec(),
        "hex" => hex(value.as_str().expect("hex")),
        "u64" => value
            .as_array()
            .expect("u64 list")
            .iter()
            .flat_map(|v| num(v).to_le_bytes())
            .collect(),
        "Attr" => build::<Attr>(value).bytes(),
        "SetAttr" => build::<SetAttr>(value).bytes(),
        "FsAttr" => build::<FsAttr>(value).bytes(),
        "LockInfo" => build::<LockInfo>(value).bytes(),
        "entries" | "entries_with_attrs" => {
            let with_attrs = kind == "entries_with_attrs";
            let mut buf = vec![0; 1 << 16];
            let mut w = if with_attrs {
                DirEntryWriter::with_attrs(&mut buf)
            } else {
                DirEntryWriter::new(&mut buf)
            };
            let attrs: Vec<Option<Attr>> = value
                .as_array()
                .expect("entries")
                .iter()
                .map(|e| e.get("attr").map(build::<Attr>))
                .collect();
            for (e, attr) in value.as_array().expect("entries").iter().zip(&attrs) {
                let entry = DirEntry {
                    ino: num(&e["ino"]),
                    cookie: num(&e["cookie"]),
                    file_type: FileType(num(&e["file_type"])),
                    name: e["name"].as_str().expect("name").as_bytes(),
                    attr: *attr,
                };
                assert!(w.push(&entry), "entry fits");
            }
            let len = w.len();
            buf.truncate(len);
            buf
        }
        other => panic!("unknown segment kind {other}"),
    }
}

/// Parses a data segment at the start of `bytes` with the crate and checks
/// its fields; returns the bytes it takes.
fn check_segment(segment: &Value, bytes: &[u8], what: &str) -> usize {
    fn structure<T: Fields>(value: &Value, bytes: &[u8], what: &str) -> usize {
        let got = T::parse(bytes).unwrap_or_else(|| panic!("{what}: {} parses", T::NAME));
        check(&got, value, what);
        size_of(T::NAME).expect("size")
    }
    let (kind, value) = object(segment).iter().next().expect("a segment");
    match kind.as_str() {
        "text" | "hex" | "u64" => {
            let want = encode_segment(segment);
            assert_eq!(bytes.get(..want.len()), Some(&want[..]), "{what}: {kind}");
            want.len()
        }
        "Attr" => structure::<Attr>(value, bytes, what),
        "SetAttr" => structure::<SetAttr>(value, bytes, what),
        "FsAttr" => structure::<FsAttr>(value, bytes, what),
        "LockInfo" => structure::<LockInfo>(value, bytes, what),
        "entries" | "entries_with_attrs" => {
            let want = value.as_array().expect("entries");
            let mut iter = DirEntryIter::of(bytes, kind == "entries_with_attrs");
            for e in want {
                let got = iter.next().expect("an entry").expect("entry parses");
                assert_eq!(got.ino, num(&e["ino"]), "{what}");
                assert_eq!(got.cookie, num(&e["cookie"]), "{what}");
                assert_eq!(got.file_type, FileType(num(&e["file_type"])), "{what}");
                assert_eq!(got.name, e["name"].as_str().expect("name").as_bytes());
                match (e.get("attr"), got.attr) {
                    (Some(want), Some(attr)) => check(&attr, want, what),
                    (None, None) => {}
                    (want, got) => panic!("{what}: attr {want:?} vs {got:?}"),
                }
            }
            bytes.len() - iter.remaining()
        }
        other => panic!("unknown segment kind {other}"),
    }
}

/// Builds a message from its fields and compares the bytes; parses the
/// bytes and compares the fields.
fn check_message<T: Fields>(m: &Value) -> T {
    let what = m["name"].as_str().expect("name");
    let bytes = hex(m["hex"].as_str().expect("hex"));
    let header: T = build(&m["header"]);
    let segments = m["data"].as_array().expect("data");
    let mut built = header.bytes();
    for s in segments {
        built.extend(encode_segment(s));
    }
    assert_eq!(built, bytes, "{what}: the crate encodes other bytes");

    let parsed = T::parse(&bytes).unwrap_or_else(|| panic!("{what}: header parses"));
    check(&parsed, &m["header"], what);
    let mut rest = &bytes[size_of(T::NAME).expect("size")..];
    if let Some(data_len) = parsed.get("data_len") {
        if m["data_follows"].as_bool().expect("data_follows") {
            assert_eq!(
                data_len,
                rest.len() as u64,
                "{what}: data_len is the data part"
            );
        } else {
            assert!(
                rest.is_empty() && data_len > 0,
                "{what}: a header sent alone"
            );
        }
    }
    for s in segments {
        let n = check_segment(s, rest, what);
        rest = &rest[n..];
    }
    assert!(rest.is_empty(), "{what}: bytes left after the data part");
    parsed
}

#[test]
fn every_message_builds_and_parses() {
    let v = vectors();
    let mut n = 0;
    for m in v["messages"].as_array().expect("messages") {
        match m["type"].as_str().expect("type") {
            "ClientHello" => drop(check_message::<ClientHello>(m)),
            "ServerHello" => drop(check_message::<ServerHello>(m)),
            "RequestHeader" => drop(check_message::<RequestHeader>(m)),
            "ReplyHeader" => drop(check_message::<ReplyHeader>(m)),
            other => panic!("unknown message type {other}"),
        }
        n += 1;
    }
    assert!(n > 70, "the vectors are all there");
}

#[test]
fn every_structure_vector_builds_and_parses() {
    fn one<T: Fields>(s: &Value) {
        let what = s["name"].as_str().expect("name");
        let bytes = hex(s["hex"].as_str().expect("hex"));
        assert_eq!(build::<T>(&s["fields"]).bytes(), bytes, "{what}");
        check(&T::parse(&bytes).expect("parses"), &s["fields"], what);
    }
    let v = vectors();
    let mut seen = BTreeSet::new();
    for s in v["structure_vectors"]
        .as_array()
        .expect("structure vectors")
    {
        let ty = s["type"].as_str().expect("type");
        match ty {
            "Attr" => one::<Attr>(s),
            "SetAttr" => one::<SetAttr>(s),
            "FsAttr" => one::<FsAttr>(s),
            "LockInfo" => one::<LockInfo>(s),
            "DirEntryHeader" => one::<DirEntryHeader>(s),
            other => panic!("unknown structure {other}"),
        }
        seen.insert(ty.to_string());
    }
    assert_eq!(seen.len(), 5, "a vector for each structure");
}

/// The vectors name every kind of message: each operation's request, and
/// each shape of reply.
#[test]
fn the_vectors_cover_every_message_kind() {
    let v = vectors();
    let messages = v["messages"].as_array().expect("messages");
    let ops: BTreeSet<u64> = messages
        .iter()
        .filter(|m| m["type"] == "RequestHeader")
        .map(|m| num(&m["header"]["op"]))
        .collect();
    for (name, code) in crate_open_codes(|c| OpCode(c).name(), 0x2000) {
        assert!(ops.contains(&code), "no request vector for {name}");
    }
    assert!(
        ops.iter().any(|&c| OpCode(c).name().is_none()),
        "an unknown op"
    );

    let replies: Vec<&Value> = messages
        .iter()
        .filter(|m| m["type"] == "ReplyHeader")
        .collect();
    let segment_kinds: BTreeSet<String> = replies
        .iter()
        .flat_map(|m| m["data"].as_array().expect("data"))
        .flat_map(|s| object(s).keys().cloned())
        .collect();
    for kind in [
        "Attr",
        "FsAttr",
        "LockInfo",
        "entries",
        "entries_with_attrs",
        "text",
    ] {
        assert!(segment_kinds.contains(kind), "no reply carries {kind}");
    }
    let has = |f: &dyn Fn(&Value) -> bool| replies.iter().any(|m| f(&m["header"]));
    assert!(has(&|h| num(&h["kind"]) == MsgKind::CLEAR_TO_SEND.0));
    for code in [
        ErrorCode::NOENT,
        ErrorCode::UNSUPPORTED,
        ErrorCode::TOO_LARGE,
    ] {
        assert!(
            has(&|h| h.get("status").map(num) == Some(code.0)),
            "{code:?}"
        );
    }
    for ty in ["ClientHello", "ServerHello"] {
        assert!(messages.iter().any(|m| m["type"] == ty), "{ty}");
    }
}

/// Every named value of an open code type of the crate, up to `max`.
fn crate_open_codes(name: impl Fn(u64) -> Option<&'static str>, max: u64) -> BTreeMap<String, u64> {
    (0..max)
        .filter_map(|c| name(c).map(|n| (n.to_string(), c)))
        .collect()
}

/// Every flag of a flag set of the crate: its name (as `Debug` prints a
/// single flag) and bit.
fn crate_flags(all: u64, debug: impl Fn(u64) -> String) -> BTreeMap<String, u64> {
    (0..64)
        .map(|i| 1u64 << i)
        .filter(|bit| all & bit != 0)
        .map(|bit| (debug(bit), bit))
        .collect()
}

/// The crate's values of the code or flag type `ty`.
fn crate_table(ty: &str) -> BTreeMap<String, u64> {
    match ty {
        "OpCode" => crate_open_codes(|c| OpCode(c).name(), 0x2000),
        "MsgKind" => crate_open_codes(|c| MsgKind(c).name(), 0x100),
        "ErrorCode" => crate_open_codes(|c| ErrorCode(c).name(), 0x2000),
        "LockType" => crate_open_codes(|c| LockType(c).name(), 0x100),
        "LockOwnerKind" => crate_open_codes(|c| LockOwnerKind(c).name(), 0x100),
        "FileType" => crate_open_codes(|c| FileType(c).name(), 0x10000),
        "OpenFlags" => crate_flags(OpenFlags::ALL.0, |b| format!("{:?}", OpenFlags(b))),
        "PathFlags" => crate_flags(PathFlags::ALL.0, |b| format!("{:?}", PathFlags(b))),
        "AccessMode" => crate_flags(AccessMode::ALL.0, |b| format!("{:?}", AccessMode(b))),
        "AttrMask" => crate_flags(AttrMask::ALL.0, |b| format!("{:?}", AttrMask(b))),
        "SetAttrMask" => crate_flags(SetAttrMask::ALL.0, |b| format!("{:?}", SetAttrMask(b))),
        other => panic!("no code type {other}"),
    }
}

fn json_table(v: &Value) -> BTreeMap<String, u64> {
    object(v).iter().map(|(k, v)| (k.clone(), num(v))).collect()
}

#[test]
fn vector_codes_and_flags_are_the_crates() {
    let v = vectors();
    for (ty, table) in object(&v["codes"]).iter().chain(object(&v["flags"])) {
        assert_eq!(json_table(table), crate_table(ty), "vectors.json {ty}");
    }
    assert_eq!(object(&v["codes"]).len() + object(&v["flags"]).len(), 11);
    for (name, errno) in json_table(&v["errno"]) {
        let code = crate_table("ErrorCode")[&name];
        assert_eq!(ErrorCode(code).to_errno() as u64, errno, "errno of {name}");
        if code > 0 && code < 0x1000 {
            assert_eq!(ErrorCode::from_errno(errno as i32), ErrorCode(code));
        }
    }
    let c = json_table(&v["constants"]);
    assert_eq!(c["MAGIC"], orfa_wire::MAGIC);
    assert_eq!(c["VERSION_MAJOR"], u64::from(orfa_wire::VERSION_MAJOR));
    assert_eq!(c["VERSION_MINOR"], u64::from(orfa_wire::VERSION_MINOR));
    assert_eq!(c["DEFAULT_EAGER_LIMIT"], orfa_wire::DEFAULT_EAGER_LIMIT);
    assert_eq!(c["DEFAULT_CREDITS"], orfa_wire::DEFAULT_CREDITS);
    assert_eq!(c["DEFAULT_MAX_IO"], orfa_wire::DEFAULT_MAX_IO);
    assert_eq!(c["MAX_PATH"], orfa_wire::MAX_PATH as u64);
    assert_eq!(c["MAX_NAME"], orfa_wire::MAX_NAME as u64);
    assert_eq!(c["MAX_GROUPS"], orfa_wire::MAX_GROUPS as u64);
    assert_eq!(c["MAX_XATTR_NAME"], orfa_wire::MAX_XATTR_NAME as u64);
    assert_eq!(c["MAX_XATTR_VALUE"], orfa_wire::MAX_XATTR_VALUE as u64);
    assert_eq!(c["ROOT_HANDLE"], orfa_wire::ROOT_HANDLE);
    assert_eq!(c.len(), 12);
}

#[test]
fn vector_layouts_are_the_crates() {
    let v = vectors();
    let structures = object(&v["structures"]);
    assert_eq!(structures.len(), STRUCTS.len());
    for name in STRUCTS {
        let s = &structures[name];
        assert_eq!(
            num(&s["size"]) as usize,
            size_of(name).expect("size"),
            "{name}"
        );
        let fields: Vec<&str> = s["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f.as_str().expect("field"))
            .collect();
        let layout = layout_of(name).expect("layout");
        let crate_fields: Vec<&str> = layout.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, crate_fields, "{name}");
        for (i, (_, offset)) in layout.iter().enumerate() {
            assert_eq!(*offset, 8 * i, "{name}: fields are consecutive u64s");
        }
    }
}

/// A table of the markdown document: the line above it, its header and rows.
#[derive(Debug)]
struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn cells(line: &str) -> Vec<String> {
    let line = line.replace("\\|", "\u{1}");
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner
        .split('|')
        .map(|c| c.trim().replace('\u{1}', "|"))
        .collect()
}

fn tables(md: &str) -> Vec<Table> {
    let lines: Vec<&str> = md.lines().collect();
    let mut out = Vec::new();
    let mut title = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let is_separator = |l: &str| l.starts_with("| ---");
        if line.starts_with('|') && lines.get(i + 1).is_some_and(|l| is_separator(l)) {
            let header = cells(line);
            let mut rows = Vec::new();
            i += 2;
            while i < lines.len() && lines[i].starts_with('|') {
                rows.push(cells(lines[i]));
                i += 1;
            }
            out.push(Table {
                title: title.clone(),
                header,
                rows,
            });
            continue;
        }
        if !line.trim().is_empty() {
            title = line.to_string();
        }
        i += 1;
    }
    out
}

/// A number as the document writes it: decimal, `0x` hex or `0o` octal.
fn parse_num(s: &str) -> u64 {
    let s = s.trim_matches('`');
    let parsed = if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(&h.replace('_', ""), 16)
    } else if let Some(o) = s.strip_prefix("0o") {
        u64::from_str_radix(o, 8)
    } else {
        s.parse()
    };
    parsed.unwrap_or_else(|_| panic!("not a number in the spec: {s}"))
}

fn unquote(s: &str) -> String {
    s.trim_matches('`').to_string()
}

fn header_is(t: &Table, names: &[&str]) -> bool {
    t.header.len() >= names.len() && t.header.iter().zip(names).all(|(h, n)| h == n)
}

#[test]
fn spec_layout_tables_are_the_crates() {
    let v = vectors();
    let mut seen = BTreeSet::new();
    for t in tables(&spec()) {
        if !header_is(&t, &["offset", "field"]) {
            continue;
        }
        // The title reads "`Name` (N bytes)".
        let name = t.title.split('`').nth(1).expect("a structure name");
        let size: usize = t
            .title
            .split('(')
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no size in {:?}", t.title));
        assert_eq!(Some(size), size_of(name), "spec: size of {name}");
        let spec_layout: Vec<(String, usize)> = t
            .rows
            .iter()
            .map(|r| (r[1].clone(), parse_num(&r[0]) as usize))
            .collect();
        let crate_layout: Vec<(String, usize)> = layout_of(name)
            .expect("layout")
            .into_iter()
            .map(|(f, o)| (f.to_string(), o))
            .collect();
        assert_eq!(spec_layout, crate_layout, "spec: layout of {name}");
        let fields = &v["structures"][name]["fields"];
        let json: Vec<String> = fields
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f.as_str().expect("field").to_string())
            .collect();
        let spec_fields: Vec<String> = spec_layout.into_iter().map(|(f, _)| f).collect();
        assert_eq!(json, spec_fields, "vectors.json and spec: {name}");
        assert!(seen.insert(name.to_string()), "two tables for {name}");
    }
    assert_eq!(seen, STRUCTS.iter().map(|s| s.to_string()).collect());
}

#[test]
fn spec_operation_tables_are_the_crates() {
    let v = vectors();
    let mut spec_ops = BTreeMap::new();
    for t in tables(&spec()) {
        if header_is(&t, &["op", "code", "request", "reply"]) {
            for r in &t.rows {
                spec_ops.insert(unquote(&r[0]), parse_num(&r[1]));
            }
        }
    }
    assert_eq!(spec_ops, crate_table("OpCode"), "spec: operations");
    assert_eq!(
        spec_ops,
        json_table(&v["codes"]["OpCode"]),
        "vectors.json: operations"
    );
}

/// The code or flag type a table of the document lists, from its title.
fn table_type(title: &str) -> Option<&'static str> {
    const TYPES: [&str; 9] = [
        "OpenFlags",
        "PathFlags",
        "MsgKind",
        "LockType",
        "LockOwnerKind",
        "AccessMode",
        "AttrMask",
        "SetAttrMask",
        "FileType",
    ];
    if title.contains("Open flags") {
        return Some("OpenFlags");
    }
    if title.contains("Path flags") {
        return Some("PathFlags");
    }
    TYPES
        .into_iter()
        .find(|ty| title.contains(&format!("`{ty}`")))
}

#[test]
fn spec_code_and_flag_tables_are_the_crates() {
    let v = vectors();
    let mut seen = BTreeSet::new();
    for t in tables(&spec()) {
        if !(header_is(&t, &["bit", "name"]) || header_is(&t, &["value", "name"])) {
            continue;
        }
        let ty = table_type(&t.title).unwrap_or_else(|| panic!("which type is {:?}", t.title));
        let spec: BTreeMap<String, u64> = t
            .rows
            .iter()
            .map(|r| (unquote(&r[1]), parse_num(&r[0])))
            .collect();
        assert_eq!(spec, crate_table(ty), "spec: {ty}");
        let json = v["codes"].get(ty).or_else(|| v["flags"].get(ty)).expect(ty);
        assert_eq!(spec, json_table(json), "vectors.json: {ty}");
        seen.insert(ty);
    }
    assert_eq!(
        seen.len(),
        9,
        "a table for each code and flag type: {seen:?}"
    );
}

#[test]
fn spec_error_tables_are_the_crates() {
    let v = vectors();
    let errno = json_table(&v["errno"]);
    let mut complete = None;
    for t in tables(&spec()) {
        if !header_is(&t, &["code", "name", "errno"]) {
            continue;
        }
        let mut rows = BTreeMap::new();
        for r in &t.rows {
            let (code, name) = (parse_num(&r[0]), unquote(&r[1]));
            assert_eq!(
                ErrorCode(code).name(),
                Some(name.as_str()),
                "spec: code {code:#x}"
            );
            if let Some(number) = r.get(3) {
                let number = parse_num(number);
                assert_eq!(
                    ErrorCode(code).to_errno() as u64,
                    number,
                    "spec: errno of {name}"
                );
                assert_eq!(
                    errno.get(&name).copied().unwrap_or(0),
                    number,
                    "vectors: {name}"
                );
            }
            rows.insert(name, code);
        }
        if t.header.len() == 4 {
            complete = Some(rows);
        }
    }
    assert_eq!(
        complete,
        Some(crate_table("ErrorCode")),
        "spec: every error code"
    );
}
