//! Replays the committed seed corpus of the `wire_decode` fuzz target
//! (`fuzz/corpus/wire_decode/`) as an ordinary test, and writes the seeds
//! from the golden vectors: `cargo test -p orfa-wire --test fuzz_corpus -- --ignored`.

use std::path::PathBuf;

use orfa_wire::REPLY_HEADER_LEN;
use orfa_wire::fuzz::decode;
use serde_json::Value;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/wire_decode")
}

#[test]
fn corpus_replays_without_panic() {
    let mut files = 0;
    for entry in std::fs::read_dir(corpus()).expect("the corpus is committed") {
        let path = entry.expect("corpus entry").path();
        decode(&std::fs::read(&path).expect("corpus file"));
        files += 1;
    }
    assert!(files >= 70, "the seeds are in the corpus");
}

#[test]
fn every_vector_decodes_without_panic() {
    for (_, bytes) in seeds() {
        decode(&bytes);
    }
}

#[test]
#[ignore = "writes the seed corpus; run by hand after changing the vectors"]
fn write_seeds() {
    std::fs::create_dir_all(corpus()).expect("corpus directory");
    for (name, bytes) in seeds() {
        std::fs::write(corpus().join(format!("seed-{name}")), bytes).expect("seed written");
    }
}

/// Every message of `spec/vectors.json`, and the data part of each reply alone.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/vectors.json");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vectors")).expect("JSON");
    let mut out = Vec::new();
    for m in v["messages"].as_array().expect("messages") {
        let name = m["name"].as_str().expect("name");
        let hex = m["hex"].as_str().expect("hex");
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        if m["type"] == "ReplyHeader" && bytes.len() > REPLY_HEADER_LEN {
            out.push((format!("{name}-data"), bytes[REPLY_HEADER_LEN..].to_vec()));
        }
        out.push((name.to_string(), bytes));
    }
    out
}
