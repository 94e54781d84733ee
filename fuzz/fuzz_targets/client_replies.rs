//! A client with requests outstanding fed arbitrary server bytes (see
//! `orfa_client_core::fuzz::replies`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| orfa_client_core::fuzz::replies(data));
