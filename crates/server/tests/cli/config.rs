use portcullis_testkit::process::run;

use crate::binary;

/// Runs the binary expecting failure; returns stderr, checked to be one line without a panic.
fn fails_with_one_line(args: &[&str], files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (status, _, stderr) = run(&binary(), dir.path(), args, &[]).unwrap();
    assert!(!status.success(), "{args:?} should fail");
    let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    lines[0].to_owned()
}

#[test]
fn unknown_key_in_the_config_file_is_named_with_its_line() {
    let line = fails_with_one_line(
        &["serve", "--config", "portcullis.toml"],
        &[(
            "portcullis.toml",
            "listen = \"127.0.0.1:0\"\nlisen = \"127.0.0.1:1\"\n",
        )],
    );
    assert!(
        line.contains("portcullis.toml: line 2:") && line.contains("lisen"),
        "{line}"
    );
}

#[test]
fn unparseable_database_url_is_named() {
    let line = fails_with_one_line(
        &[
            "serve",
            "--database-url",
            "postgres://user@host:notaport/db",
        ],
        &[],
    );
    assert!(
        line.contains("invalid database URL (from --database-url or PORTCULLIS_DATABASE_URL)"),
        "{line}"
    );
    let line = fails_with_one_line(&["serve", "--database-url", "mysql://x/y"], &[]);
    assert!(
        line.contains("not a sqlite:// or postgres:// URL"),
        "{line}"
    );
}

#[test]
fn unreachable_database_is_named() {
    let line = fails_with_one_line(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/nothing",
            "--database-acquire-timeout",
            "1s",
            "--key-encryption-key",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ],
        &[],
    );
    assert!(
        line.contains("cannot connect to the database at postgres://postgres@127.0.0.1:1/nothing"),
        "{line}"
    );
}

#[test]
fn bad_values_are_named_with_their_source() {
    let line = fails_with_one_line(&["serve", "--listen", "localhost"], &[]);
    assert!(
        line.contains("invalid listen address (from --listen or PORTCULLIS_LISTEN)"),
        "{line}"
    );
    let line = fails_with_one_line(
        &["serve", "--config", "c.toml"],
        &[("c.toml", "shutdown_timeout = \"soon\"\n")],
    );
    assert!(
        line.contains("invalid shutdown_timeout (from `shutdown_timeout` in c.toml)"),
        "{line}"
    );
    let line = fails_with_one_line(&["serve", "--issuer", "http://auth.example.com"], &[]);
    assert!(line.contains("must be an https URL"), "{line}");
    let line = fails_with_one_line(&["serve", "--key-encryption-key", "c2hvcnQ="], &[]);
    assert!(line.contains("32 bytes"), "{line}");
}

#[test]
fn check_config_reports_problems_and_exits_non_zero() {
    let line = fails_with_one_line(
        &["check-config", "--config", "c.toml"],
        &[(
            "c.toml",
            "database_url = \"sqlite://./data/p.db\"\naccess_token_alg = \"HS256\"\n",
        )],
    );
    assert!(
        line.contains("access_token_alg") && line.contains("HS256"),
        "{line}"
    );
}

#[test]
fn check_config_accepts_a_good_configuration() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "database_url = \"sqlite://./data/p.db\"\nlisten = \"127.0.0.1:9999\"\n",
    )
    .unwrap();
    let (status, stdout, stderr) = run(
        &binary(),
        dir.path(),
        &["check-config", "--config", "c.toml"],
        &[],
    )
    .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("configuration OK"), "{stdout}");
    assert!(stdout.contains("127.0.0.1:9999"), "{stdout}");
    // It inspects; it does not migrate (an operator runs it before an upgrade).
    assert!(
        stdout.contains("0 migrations applied") && stdout.contains("pending"),
        "{stdout}"
    );
    let (status, stdout, stderr) = run(
        &binary(),
        dir.path(),
        &["check-config", "--config", "c.toml"],
        &[],
    )
    .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("0 migrations applied"), "{stdout}");
    let (status, _, stderr) = run(
        &binary(),
        dir.path(),
        &["migrate", "--config", "c.toml"],
        &[],
    )
    .unwrap();
    assert!(status.success(), "{stderr}");
    let (status, stdout, stderr) = run(
        &binary(),
        dir.path(),
        &["check-config", "--config", "c.toml"],
        &[],
    )
    .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("up to date"), "{stdout}");
}

#[test]
fn zero_timeouts_and_periods_are_refused() {
    for (key, value) in [("request_timeout", "0s"), ("key_refresh_interval", "0s")] {
        let line = fails_with_one_line(
            &["check-config", "--config", "c.toml"],
            &[("c.toml", &format!("{key} = \"{value}\"\n"))],
        );
        assert!(
            line.contains(key) && line.contains("longer than zero"),
            "{line}"
        );
    }
}

#[test]
fn help_explains_every_option() {
    let dir = tempfile::tempdir().unwrap();
    let (status, top, _) = run(&binary(), dir.path(), &["--help"], &[]).unwrap();
    assert!(status.success());
    for command in ["serve", "migrate", "check-config", "keys"] {
        assert!(top.contains(command), "{top}");
    }
    let (_, serve, _) = run(&binary(), dir.path(), &["serve", "--help"], &[]).unwrap();
    for option in [
        "--config",
        "--database-url",
        "--database-url-file",
        "--database-max-connections",
        "--database-acquire-timeout",
        "--sqlite-synchronous",
        "--key-encryption-key",
        "--key-encryption-key-file",
        "--access-token-alg",
        "--max-access-token-ttl",
        "--log-format",
        "--log-level",
        "--listen",
        "--issuer",
        "--sandbox",
        "--key-activation-delay",
        "--key-refresh-interval",
        "--request-timeout",
        "--shutdown-timeout",
        "PORTCULLIS_DATABASE_URL",
        "PORTCULLIS_LISTEN",
    ] {
        assert!(serve.contains(option), "serve --help lacks {option}");
    }
    for sub in [
        &["migrate", "--help"][..],
        &["check-config", "--help"],
        &["keys", "rotate", "--help"],
    ] {
        let (status, text, _) = run(&binary(), dir.path(), sub, &[]).unwrap();
        assert!(
            status.success() && text.contains("--database-url"),
            "{sub:?}"
        );
    }
}

/// The documented example configuration stays valid.
#[test]
fn the_example_configuration_file_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../portcullis.example.toml");
    std::fs::copy(&example, dir.path().join("portcullis.toml")).unwrap();
    let (status, stdout, stderr) = run(
        &binary(),
        dir.path(),
        &["check-config", "--config", "portcullis.toml"],
        &[],
    )
    .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("configuration OK"), "{stdout}");
}
