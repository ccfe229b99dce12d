use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use portcullis_core::keys::KeyEncryptionKey;
use portcullis_core::random::OsRandom;
use portcullis_store::testing::TestDatabase;
use portcullis_testkit::process::{ServerProcess, run};
use serde_json::Value;

use crate::binary;

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The README's run command (`serve --sandbox`, default SQLite file under ./portcullis-data)
/// answers health checks within seconds, prints the sandbox credentials once, and keeps its
/// data across a restart.
#[tokio::test]
async fn sandbox_serves_within_seconds_and_keeps_data_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut server = ServerProcess::start(&binary(), dir.path(), &["--sandbox"], &[]).unwrap();
    assert_eq!(get(&server.url("/healthz")).await.0, 200);
    assert_eq!(get(&server.url("/readyz")).await.0, 200);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "ready after {:?}",
        started.elapsed()
    );
    assert!(dir.path().join("portcullis-data/portcullis.db").exists());
    // Standard output is captured here, as by a supervisor: the credentials go to a file of
    // the operator's, never into what is logged.
    let file = dir.path().join("portcullis-data/sandbox-credentials.txt");
    let out = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions())
            & 0o777,
        0o600
    );
    assert!(
        out.contains("Demo user   demo@example.com  password "),
        "{out}"
    );
    assert!(out.contains("client_id demo-app  client_secret "), "{out}");
    assert!(
        out.contains("/oauth/authorize?response_type=code&client_id=demo-app"),
        "{out}"
    );
    let password = out
        .split("password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    let logged = [server.stdout(), server.stderr()].concat();
    assert!(!logged.is_empty());
    for line in &logged {
        assert!(!line.contains(&password), "a secret was logged: {line}");
        assert!(!line.contains("client_secret"), "{line}");
        // Every line is a JSON log record: nothing plain-text is mixed into the stream.
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    assert!(
        logged.iter().any(|l| l.contains("sandbox-credentials.txt")),
        "the log says where the credentials are: {logged:?}"
    );
    let (_, jwks_before) = get(&server.url("/oauth/jwks")).await;
    server.terminate().unwrap();
    assert!(server.wait(Duration::from_secs(10)).unwrap().success());

    let server = ServerProcess::start(&binary(), dir.path(), &["--sandbox"], &[]).unwrap();
    assert_eq!(get(&server.url("/readyz")).await.0, 200);
    let logged = [server.stdout(), server.stderr()].concat().join("\n");
    assert!(
        logged.contains("written to the credentials file on first start"),
        "{logged}"
    );
    assert!(!logged.contains(&password), "{logged}");
    // The first start's file is kept.
    assert_eq!(std::fs::read_to_string(&file).unwrap(), out);
    assert_eq!(get(&server.url("/oauth/jwks")).await.1, jwks_before);
}

/// The same with `--database-url postgres://…`.
#[tokio::test]
async fn serves_on_postgres_and_keeps_data_across_restart() {
    let Some(db) = TestDatabase::postgres("cli::serve_on_postgres")
        .await
        .unwrap()
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let kek = KeyEncryptionKey::generate_base64(&OsRandom).unwrap();
    let env = [
        ("PORTCULLIS_DATABASE_URL", db.url()),
        ("PORTCULLIS_KEY_ENCRYPTION_KEY", kek.as_str()),
    ];
    let mut server = ServerProcess::start(&binary(), dir.path(), &["--sandbox"], &env).unwrap();
    assert_eq!(get(&server.url("/readyz")).await.0, 200);
    let (_, jwks_before) = get(&server.url("/oauth/jwks")).await;
    server.terminate().unwrap();
    assert!(server.wait(Duration::from_secs(10)).unwrap().success());
    assert!(
        !dir.path().join("portcullis-data").exists(),
        "nothing written locally"
    );

    let server = ServerProcess::start(&binary(), dir.path(), &["--sandbox"], &env).unwrap();
    assert_eq!(get(&server.url("/readyz")).await.0, 200);
    assert_eq!(get(&server.url("/oauth/jwks")).await.1, jwks_before);
    assert!(
        [server.stdout(), server.stderr()]
            .concat()
            .join("\n")
            .contains("written to the credentials file on first start")
    );
}

/// SIGTERM while a request is still arriving: the server stops accepting, lets that request
/// finish, then exits 0.
#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish_then_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(&binary(), dir.path(), &[], &[]).unwrap();
    let body = b"grant_type=client_credentials&client_id=nobody&client_secret=wrong";
    let mut stream = std::net::TcpStream::connect(server.address).unwrap();
    write!(
        stream,
        "POST /oauth/token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        server.address,
        body.len()
    )
    .unwrap();
    stream.write_all(&body[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(200));

    server.terminate().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    stream.write_all(&body[10..]).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(
        response.starts_with("HTTP/1.1 401"),
        "the request was answered: {response:?}"
    );
    assert!(response.contains("invalid_client"), "{response}");

    let status = server.wait(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "exit status {status}");
    // New connections are refused once shutdown began.
    assert!(std::net::TcpStream::connect(server.address).is_err());
}

/// A second server on the same SQLite file is refused with one clear line.
#[tokio::test]
async fn a_second_server_on_the_same_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = ServerProcess::start(&binary(), dir.path(), &[], &[]).unwrap();
    let (status, _, stderr) = run(
        &binary(),
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0"],
        &[],
    )
    .unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("already using sqlite://./portcullis-data/portcullis.db"),
        "{stderr}"
    );
    assert!(stderr.contains("use PostgreSQL to run several"), "{stderr}");
}

/// JSON logs carry the request id on the request's lines, and never a credential.
#[tokio::test]
async fn json_logs_carry_the_request_id_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(&binary(), dir.path(), &[], &[]).unwrap();
    let secret = "s3cr3t-that-must-not-be-logged";
    let http = reqwest::Client::new();
    http.post(server.url("/oauth/token?code=query-secret"))
        .header("x-request-id", "req-4242")
        .basic_auth("some-client", Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    server.terminate().unwrap();
    server.wait(Duration::from_secs(10)).unwrap();
    let logs = server.stderr();
    let request_lines: Vec<Value> = logs
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|v| v["span"]["request_id"] == "req-4242")
        .collect();
    assert!(!request_lines.is_empty(), "{logs:#?}");
    // Basic credentials and a client_secret in the body: two methods, so invalid_request.
    assert!(
        request_lines.iter().any(|v| v["status"] == 400),
        "{request_lines:#?}"
    );
    let all = logs.join("\n");
    assert!(!all.contains(secret), "a secret reached the logs");
    assert!(
        !all.contains("query-secret"),
        "a query string reached the logs"
    );
}
