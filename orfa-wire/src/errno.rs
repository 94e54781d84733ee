//! The fixed mapping between protocol error codes and Linux errno values.
//!
//! Codes below 0x1000 carry the numbers of Linux's generic errno table
//! (`asm-generic/errno-base.h` and `errno.h`, shared by x86, Arm, RISC-V and
//! most other ports), so on those hosts the mapping is the identity. The
//! protocol's own codes map to the errno a program is best served by.

use crate::codes::ErrorCode;

/// `EIO` in the generic Linux numbering.
const EIO: i32 = 5;
/// `EACCES` in the generic Linux numbering.
const EACCES: i32 = 13;
/// `ENOSYS` in the generic Linux numbering.
const ENOSYS: i32 = 38;
/// `EMSGSIZE` in the generic Linux numbering.
const EMSGSIZE: i32 = 90;
/// `EPROTO` in the generic Linux numbering.
const EPROTO: i32 = 71;

impl ErrorCode {
    /// The Linux errno for this code (0 for [`ErrorCode::OK`]).
    ///
    /// An unknown protocol code gives `EIO`.
    pub const fn to_errno(self) -> i32 {
        match self {
            Self::PROTOCOL => EPROTO,
            Self::UNSUPPORTED => ENOSYS,
            Self::TOO_LARGE => EMSGSIZE,
            Self::ESCAPE => EACCES,
            Self(v) if v < 0x1000 => v as i32,
            _ => EIO,
        }
    }

    /// The protocol code for a Linux errno; values outside the errno range give [`ErrorCode::IO`].
    pub const fn from_errno(errno: i32) -> Self {
        if errno > 0 && errno < 0x1000 {
            Self(errno as u64)
        } else {
            Self::IO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_round_trips_below_protocol_range() {
        for e in 1..200 {
            assert_eq!(ErrorCode::from_errno(e).to_errno(), e);
        }
    }

    #[test]
    fn protocol_codes_map_to_usable_errnos() {
        assert_eq!(ErrorCode::ESCAPE.to_errno(), EACCES);
        assert_eq!(ErrorCode(0xdead_beef).to_errno(), EIO);
        assert_eq!(ErrorCode::from_errno(-3), ErrorCode::IO);
    }
}
