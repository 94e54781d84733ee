//! A server session fed arbitrary client bytes (see `orfa_server_core::fuzz::session`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| orfa_server_core::fuzz::session(data));
