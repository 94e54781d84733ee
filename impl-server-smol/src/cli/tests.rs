//! Command-line parsing.

use super::*;

#[test]
fn listen_addresses_parse() {
    assert_eq!(
        parse_listen("127.0.0.1:0"),
        Ok(ListenAddr::Tcp("127.0.0.1:0".parse().expect("addr")))
    );
    assert_eq!(
        parse_listen("[::1]:7000"),
        Ok(ListenAddr::Tcp("[::1]:7000".parse().expect("addr")))
    );
    assert_eq!(
        parse_listen("unix:/tmp/s"),
        Ok(ListenAddr::Unix("/tmp/s".into()))
    );
    assert!(parse_listen("unix:").is_err());
    assert!(parse_listen("no-port").is_err());
}

#[test]
fn exactly_one_backend_is_required() {
    let parse = |args: &[&str]| Cli::try_parse_from(["orfa-server"].iter().chain(args));
    assert!(parse(&["--listen", "127.0.0.1:0"]).is_err());
    assert!(parse(&["--listen", "127.0.0.1:0", "--memory", "--export", "/tmp"]).is_err());
    let cli = parse(&[
        "--listen",
        "127.0.0.1:0",
        "--listen",
        "unix:/tmp/x",
        "--memory",
        "--credits",
        "4",
    ])
    .expect("valid");
    assert_eq!(cli.listen.len(), 2);
    assert_eq!(cli.credits, 4);
    assert!(parse(&["--listen", "127.0.0.1:0", "--memory", "--credits", "0"]).is_err());
}
