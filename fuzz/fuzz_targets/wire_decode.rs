//! Every decoder of `orfa-wire` on arbitrary bytes (see `orfa_wire::fuzz::decode`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| orfa_wire::fuzz::decode(data));
