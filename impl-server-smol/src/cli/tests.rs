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

#[test]
fn share_limits_have_defaults_and_bounds() {
    let parse = |args: &[&str]| {
        Cli::try_parse_from(
            ["orfa-server", "--listen", "127.0.0.1:0", "--memory"]
                .iter()
                .chain(args),
        )
    };
    let cli = parse(&[]).expect("defaults");
    assert_eq!((cli.share_grace, cli.max_shared), (60, 4096));
    let cli = parse(&["--share-grace", "10", "--max-shared", "1"]).expect("the smallest");
    assert_eq!((cli.share_grace, cli.max_shared), (10, 1));
    assert!(
        parse(&["--share-grace", "9"]).is_err(),
        "the protocol's least grace is 10 s"
    );
    assert!(parse(&["--max-shared", "0"]).is_err());
}
