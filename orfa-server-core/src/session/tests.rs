//! Session tests: framing, credits and rendezvous against the in-memory backend.
