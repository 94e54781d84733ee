use orfa_wire::{ClientHello, ErrorCode, MAGIC, ServerHello, WireError, pack_version};

use crate::{HandshakeError, Limits, client_hello, parse_server_hello};

fn server_hello(version: u64, status: ErrorCode, credits: u64) -> [u8; 64] {
    *ServerHello {
        magic: MAGIC.into(),
        version: version.into(),
        status: status.0.into(),
        eager_limit: 4096.into(),
        credits: credits.into(),
        max_io: 65536.into(),
        ..ServerHello::default()
    }
    .as_wire()
}

#[test]
fn client_hello_carries_magic_and_version() {
    let hello = ClientHello::parse(&client_hello()).unwrap();
    assert_eq!(hello.magic.get(), MAGIC);
    assert_eq!(
        hello.version.get(),
        pack_version(orfa_wire::VERSION_MAJOR, orfa_wire::VERSION_MINOR)
    );
    assert_eq!(hello.flags.get(), 0);
}

#[test]
fn server_hello_gives_limits() {
    let limits = parse_server_hello(&server_hello(pack_version(1, 0), ErrorCode::OK, 8)).unwrap();
    assert_eq!(
        limits,
        Limits {
            eager_limit: 4096,
            credits: 8,
            max_io: 65536,
            minor: 0,
        }
    );
}

#[test]
fn server_hello_of_a_later_minor_is_accepted() {
    assert!(parse_server_hello(&server_hello(pack_version(1, 7), ErrorCode::OK, 8)).is_ok());
}

#[test]
fn server_hello_failures() {
    let other_major = server_hello(pack_version(2, 0), ErrorCode::OK, 8);
    assert_eq!(
        parse_server_hello(&other_major),
        Err(HandshakeError::Version { major: 2, minor: 0 })
    );
    let refused = server_hello(pack_version(1, 0), ErrorCode::UNSUPPORTED, 8);
    assert_eq!(
        parse_server_hello(&refused),
        Err(HandshakeError::Refused(ErrorCode::UNSUPPORTED))
    );
    let no_credit = server_hello(pack_version(1, 0), ErrorCode::OK, 0);
    assert_eq!(
        parse_server_hello(&no_credit),
        Err(HandshakeError::BadLimits)
    );
    let mut bad_magic = server_hello(pack_version(1, 0), ErrorCode::OK, 8);
    bad_magic[0] ^= 1;
    assert!(matches!(
        parse_server_hello(&bad_magic),
        Err(HandshakeError::Wire(WireError::BadMagic(_)))
    ));
    assert!(matches!(
        parse_server_hello(&bad_magic[..10]),
        Err(HandshakeError::Wire(WireError::Short { .. }))
    ));
}
