//! Request limits: body size per route (413), URL length (414), header section (431), the
//! request timeout on a slow upload (503), load shedding past the concurrency limit (503 at
//! once), connections that never send a request head (closed at the request timeout) and an
//! exhausted database pool (503, never 500). Every 503 carries `Retry-After`.

use std::time::{Duration, Instant};

use portcullis_testkit::flow::{browser, confidential, hidden};
use portcullis_testkit::{AppOptions, Backend, TestApp, spawn_app, spawn_app_with};
use sqlx::Connection as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::oauth_kit::{Answer, post_raw};

/// Sends `head` (and `body`) on a new connection and reads the whole answer.
async fn raw(app: &TestApp, head: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer and close before reading everything: that is the point.
    let _ = stream.write_all(body).await;
    read_all(&mut stream).await
}

async fn read_all(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

fn form_of(len: usize) -> String {
    format!("grant_type=client_credentials&pad={}", "a".repeat(len))
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413_by_route() {
    let app = spawn_app().await;
    let form = "application/x-www-form-urlencoded";
    let answer = post_raw(&app, "/oauth/token", form, form_of(9 * 1024)).await;
    answer.assert_error(413, "invalid_request");
    let answer = post_raw(&app, "/oauth/token", form, form_of(7 * 1024)).await;
    assert_eq!(
        answer.status, 401,
        "under the limit it reaches the endpoint"
    );
    // Introspection and revocation carry tokens that may come from anywhere: a bit more room.
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let answer = post_raw(&app, path, form, form_of(12 * 1024)).await;
        assert_eq!(answer.status, 401, "{path}");
        post_raw(&app, path, form, form_of(17 * 1024))
            .await
            .assert_error(413, "invalid_request");
    }

    // The resource API and the admin API take more; past their limits, 413 too.
    let json = "application/json";
    let pad = |n: usize| format!("{{\"memo\":\"{}\"}}", "a".repeat(n));
    assert_eq!(
        post_raw(&app, "/api/v1/orders", json, pad(12 * 1024))
            .await
            .status,
        401
    );
    post_raw(&app, "/api/v1/orders", json, pad(17 * 1024))
        .await
        .assert_error(413, "invalid_request");
    assert_eq!(
        post_raw(&app, "/admin/v1/clients", json, pad(60 * 1024))
            .await
            .status,
        401
    );
    post_raw(&app, "/admin/v1/clients", json, pad(65 * 1024))
        .await
        .assert_error(413, "invalid_request");

    // A browser posting a form gets a page.
    let response = browser()
        .post(app.url("/login"))
        .header("accept", "text/html")
        .header("content-type", form)
        .body(format!("email={}", "a".repeat(9 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let page = response.text().await.unwrap();
    assert!(page.contains("<html"), "{page}");
}

#[tokio::test]
async fn chunked_bodies_are_cut_off_at_the_limit() {
    let app = spawn_app().await;
    let head = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.address
    );
    let mut body = Vec::new();
    for _ in 0..10 {
        body.extend_from_slice(format!("400\r\n{}\r\n", "a".repeat(1024)).as_bytes());
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let answer = raw(&app, &head, &body).await;
    assert_eq!(status_of(&answer), 413, "{answer}");
    assert!(answer.contains("invalid_request"), "{answer}");

    // A small chunked body goes through.
    let small = "grant_type=client_credentials";
    let chunk = format!("{:x}\r\n{small}\r\n0\r\n\r\n", small.len());
    let answer = raw(&app, &head, chunk.as_bytes()).await;
    assert_eq!(status_of(&answer), 401, "{answer}");
}

#[tokio::test]
async fn long_urls_are_refused_with_414() {
    let app = spawn_app().await;
    let url = |n: usize| app.url(&format!("/oauth/authorize?state={}", "a".repeat(n)));
    let response = app.http.get(url(7 * 1024)).send().await.unwrap();
    assert_eq!(
        response.status(),
        400,
        "an ordinary bad request under the limit"
    );
    let response = app.http.get(url(9 * 1024)).send().await.unwrap();
    assert_eq!(response.status(), 414);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    // hyper's own limit, far above ours, answers 414 as well.
    let head = format!(
        "GET /healthz?{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    assert_eq!(status_of(&raw(&app, &head, b"").await), 414);
}

#[tokio::test]
async fn large_header_sections_are_refused_with_431() {
    let app = spawn_app().await;
    let filler = "a".repeat(8 * 1024);
    let mut request = app.http.get(app.url("/healthz"));
    for n in 0..3 {
        request = request.header(format!("x-filler-{n}"), &filler);
    }
    assert_eq!(request.send().await.unwrap().status(), 200, "24 KiB passes");
    let mut request = app.http.get(app.url("/oauth/jwks"));
    for n in 0..5 {
        request = request.header(format!("x-filler-{n}"), &filler);
    }
    let answer = Answer::of(request.send().await.unwrap()).await;
    answer.assert_error(431, "invalid_request");

    // hyper's own limit on header lines (100) answers 431 as well, before any of ours.
    let many: String = (0..101).map(|n| format!("x-h{n}: v\r\n")).collect();
    let head = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}Connection: close\r\n\r\n");
    assert_eq!(status_of(&raw(&app, &head, b"").await), 431);
}

fn slow_upload_head(app: &TestApp) -> String {
    format!(
        "POST /oauth/token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 100\r\nConnection: close\r\n\r\ngrant_type",
        app.address
    )
}

#[tokio::test]
async fn a_slow_upload_is_cut_off_at_the_request_timeout_with_503() {
    let app = spawn_app_with(AppOptions {
        configure: |c| c.request_timeout = Duration::from_secs(1),
        ..AppOptions::default()
    })
    .await
    .unwrap();
    let started = Instant::now();
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream
        .write_all(slow_upload_head(&app).as_bytes())
        .await
        .unwrap();
    // The other 90 bytes never come.
    let answer = read_all(&mut stream).await;
    assert_eq!(status_of(&answer), 503, "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 2"),
        "{answer}"
    );
    assert!(answer.contains("temporarily_unavailable"), "{answer}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}

/// Reads until the server closes the connection; how long that took.
async fn closed_after(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut sink = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut sink)).await;
    assert!(
        read.is_ok(),
        "the server kept the connection open: {sink:?}"
    );
    started.elapsed()
}

#[tokio::test]
async fn connections_that_send_no_request_head_are_closed_at_the_request_timeout() {
    let app = spawn_app_with(AppOptions {
        configure: |c| c.request_timeout = Duration::from_secs(1),
        ..AppOptions::default()
    })
    .await
    .unwrap();
    // Silent from the start.
    let mut silent = TcpStream::connect(app.address).await.unwrap();
    // A head that never ends (slowloris).
    let mut slow = TcpStream::connect(app.address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // Idle after one answered request on a keep-alive connection.
    let mut idle = TcpStream::connect(app.address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0_u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    for (name, stream) in [
        ("silent", &mut silent),
        ("slow", &mut slow),
        ("idle", &mut idle),
    ] {
        let waited = closed_after(stream).await;
        assert!(waited < Duration::from_secs(5), "{name}: {waited:?}");
    }
}

#[tokio::test]
async fn requests_past_the_concurrency_limit_are_shed_at_once_with_503() {
    let app = spawn_app_with(AppOptions {
        configure: |c| c.limits.max_concurrent_requests = 2,
        ..AppOptions::default()
    })
    .await
    .unwrap();
    // Two uploads that never finish hold both places.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(app.address).await.unwrap();
        stream
            .write_all(slow_upload_head(&app).as_bytes())
            .await
            .unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let answer = Answer::of(app.http.get(app.url("/oauth/jwks")).send().await.unwrap()).await;
    answer.assert_error(503, "temporarily_unavailable");
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "answered at once, not queued"
    );
    let page = browser()
        .get(app.url("/login"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.text().await.unwrap().contains("<html"));
    // Operations endpoints stay answerable for load balancers and monitoring.
    for path in ["/healthz", "/readyz", "/metrics"] {
        let status = app.http.get(app.url(path)).send().await.unwrap().status();
        assert_eq!(status, 200, "{path}");
    }

    // When the held requests end, places free up.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = app
            .http
            .get(app.url("/oauth/jwks"))
            .send()
            .await
            .unwrap()
            .status();
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still shedding: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// SQLite has one writer connection: while another process holds the write lock, one write
/// waits on the lock holding that connection, and the next cannot get it within the acquire
/// timeout.
#[tokio::test]
async fn an_exhausted_pool_answers_503_with_retry_after_on_sqlite() {
    let app = spawn_app_with(AppOptions {
        configure: |c| c.database.acquire_timeout = Duration::from_millis(300),
        ..AppOptions::default()
    })
    .await
    .unwrap();
    app.user("ann@example.com").await;
    let browsers = [browser(), browser()];
    let mut forms = Vec::new();
    for browser in &browsers {
        let page = browser.get(app.url("/login")).send().await.unwrap();
        forms.push(hidden(&page.text().await.unwrap(), "csrf"));
    }
    // Nothing else may be waiting for the writer when the lock is taken: the audit trail of
    // the set-up is written first.
    app.audit.flush(Duration::from_secs(5)).await;
    let mut lock = sqlx::SqliteConnection::connect(app.database_url())
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .unwrap();

    let login = |n: usize| {
        browsers[n]
            .post(app.url("/login"))
            .form(&[
                ("email", "ann@example.com"),
                ("password", "wrong password!"),
                ("csrf", forms[n].as_str()),
            ])
            .send()
    };
    let waiting = login(0);
    let (first, second) = tokio::join!(waiting, async {
        // Long enough for the first login to be holding the writer, waiting on the lock, on a
        // busy machine too; far within SQLite's 5 s busy timeout.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let second = login(1).await.unwrap();
        sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
        second
    });
    assert_eq!(second.status(), 503);
    assert_eq!(second.headers()["retry-after"], "2");
    assert!(
        second
            .text()
            .await
            .unwrap()
            .contains("Temporarily unavailable")
    );
    // The login that held the writer while it waited on the lock either goes on once the lock
    // is gone or gives up as unavailable; never a 500.
    let first = first.unwrap();
    assert!(
        first.status() == 303
            || (first.status() == 503 && first.headers().contains_key("retry-after")),
        "{}",
        first.status()
    );
    // With the lock gone, logins work again.
    let page = browsers[1].get(app.url("/login")).send().await.unwrap();
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let again = browsers[1]
        .post(app.url("/login"))
        .form(&[
            ("email", "ann@example.com"),
            ("password", "wrong password!"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303, "logins work once the lock is gone");
}

/// PostgreSQL with one connection: a query blocked on a table lock holds it, and the next
/// request cannot get one within the acquire timeout.
#[tokio::test]
async fn an_exhausted_pool_answers_503_with_retry_after_on_postgres() {
    let Some(app) = spawn_app_with(AppOptions {
        backend: Backend::Postgres,
        configure: |c| {
            c.database.max_connections = 1;
            c.database.acquire_timeout = Duration::from_millis(300);
        },
        ..AppOptions::default()
    })
    .await
    else {
        return;
    };
    let (one, one_secret) = app.client(confidential("One")).await;
    let (two, two_secret) = app.client(confidential("Two")).await;
    let mut lock = sqlx::PgConnection::connect(app.database_url())
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut lock).await.unwrap();
    sqlx::query("LOCK TABLE clients IN ACCESS EXCLUSIVE MODE")
        .execute(&mut lock)
        .await
        .unwrap();

    let grant = |client: &portcullis_core::client::Client, secret: &portcullis_proto::Secret| {
        app.http
            .post(app.url("/oauth/token"))
            .basic_auth(client.id.as_str(), Some(secret.expose()))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    let (first, (second, ready)) = tokio::join!(grant(&one, one_secret.as_ref().unwrap()), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let second = Answer::of(grant(&two, two_secret.as_ref().unwrap()).await.unwrap()).await;
        let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
        sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
        (second, ready)
    });
    second.assert_error(503, "temporarily_unavailable");
    assert_eq!(second.header("retry-after"), Some("2"));
    assert_eq!(
        ready.status(),
        503,
        "not ready while no connection can be had"
    );
    assert!(ready.headers().contains_key("retry-after"));
    Answer::of(first.unwrap()).await.assert_tokens();
}
