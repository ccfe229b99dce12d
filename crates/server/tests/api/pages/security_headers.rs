//! Every answer carries the security headers, whoever made it: pages, JSON errors of the
//! handlers, the fallback 404, and the refusals of the middleware (413, 414, 431).

use portcullis_testkit::flow::browser;
use portcullis_testkit::spawn_app;

/// Asserts the headers every answer carries, and the page policy on HTML.
#[track_caller]
fn assert_secured(what: &str, response: &reqwest::Response) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{what}");
    assert_eq!(
        header("referrer-policy").as_deref(),
        Some("no-referrer"),
        "{what}"
    );
    let csp = header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    let html = header("content-type").is_some_and(|c| c.starts_with("text/html"));
    if html || response.status().as_u16() >= 400 {
        assert_eq!(
            header("cache-control").as_deref(),
            Some("no-store"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn every_kind_of_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let http = browser();
    let form = "application/x-www-form-urlencoded";
    let cases = [
        ("a page", http.get(app.url("/login"))),
        ("the fallback 404", http.get(app.url("/no/such/path"))),
        (
            "a JSON 401 of the resource API",
            http.get(app.url("/api/v1/me")),
        ),
        (
            "a JSON 401 of the admin API",
            http.get(app.url("/admin/v1/clients")),
        ),
        (
            "a JSON 401 of the token endpoint",
            http.post(app.url("/oauth/token"))
                .header("content-type", form)
                .body("grant_type=client_credentials&client_id=x&client_secret=y"),
        ),
        (
            "an HTML 413 of a page",
            http.post(app.url("/login"))
                .header("accept", "text/html")
                .header("content-type", form)
                .body(format!("email={}", "a".repeat(9 * 1024))),
        ),
        (
            "a JSON 413 of the token endpoint",
            http.post(app.url("/oauth/token"))
                .header("content-type", form)
                .body(format!("pad={}", "a".repeat(9 * 1024))),
        ),
        (
            "a 414",
            http.get(app.url(&format!("/oauth/authorize?state={}", "a".repeat(9 * 1024)))),
        ),
        (
            "a 431",
            (0..5).fold(http.get(app.url("/oauth/jwks")), |r, n| {
                r.header(format!("x-filler-{n}"), "a".repeat(8 * 1024))
            }),
        ),
        (
            "discovery",
            http.get(app.url("/.well-known/openid-configuration")),
        ),
    ];
    for (what, request) in cases {
        let response = request.send().await.unwrap();
        assert_secured(what, &response);
    }
}

#[tokio::test]
async fn the_stylesheet_stays_cacheable() {
    let app = spawn_app().await;
    let response = browser()
        .get(app.url("/static/portcullis.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_secured("the stylesheet", &response);
    assert_eq!(
        response.headers()["cache-control"].to_str().unwrap(),
        "public, max-age=3600"
    );
}
