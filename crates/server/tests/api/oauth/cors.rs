//! CORS for browser-based apps: public documents for any origin, the token, revocation and
//! userinfo endpoints for the origins their client registered, and nothing on the pages.

use portcullis_core::admin::clients::NewClient;
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{Pkce, REDIRECT_URI, public, request};
use portcullis_testkit::spawn_app;

const SPA: &str = "http://127.0.0.1:5173";
const OTHER: &str = "https://elsewhere.example";
const EMAIL: &str = "alice@example.com";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn spa_client(app: &TestApp) -> portcullis_core::client::Client {
    app.client(NewClient {
        web_origins: vec![SPA.to_owned()],
        ..public("Single Page")
    })
    .await
    .0
}

async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str) -> reqwest::Response {
    http()
        .request(reqwest::Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn discovery_and_jwks_answer_any_origin() {
    let app = spawn_app().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/oauth/jwks",
    ] {
        let response = http()
            .get(app.url(path))
            .header("origin", OTHER)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "access-control-allow-origin").as_deref(),
            Some("*")
        );
        let response = preflight(&app, path, OTHER, "GET").await;
        assert_eq!(response.status(), 204, "{path}");
        assert_eq!(
            header(&response, "access-control-allow-origin").as_deref(),
            Some("*")
        );
        assert!(header(&response, "access-control-allow-credentials").is_none());
    }
}

#[tokio::test]
async fn preflights_of_client_endpoints_pass_only_for_registered_origins() {
    let app = spawn_app().await;
    spa_client(&app).await;
    for (path, method) in [
        ("/oauth/token", "POST"),
        ("/oauth/revoke", "POST"),
        ("/oauth/userinfo", "GET"),
    ] {
        let allowed = preflight(&app, path, SPA, method).await;
        assert_eq!(allowed.status(), 204, "{path}");
        assert_eq!(
            header(&allowed, "access-control-allow-origin").as_deref(),
            Some(SPA),
            "{path}"
        );
        let methods = header(&allowed, "access-control-allow-methods").unwrap();
        assert!(methods.contains(method), "{path}: {methods}");
        let headers = header(&allowed, "access-control-allow-headers").unwrap();
        assert!(headers.contains("content-type") && headers.contains("authorization"));
        assert!(header(&allowed, "vary").unwrap().contains("origin"));
        assert!(header(&allowed, "access-control-allow-credentials").is_none());

        for stranger in [
            OTHER,
            "http://127.0.0.1:5174",
            "HTTP://127.0.0.1:5173",
            "null",
        ] {
            let refused = preflight(&app, path, stranger, method).await;
            assert!(
                header(&refused, "access-control-allow-origin").is_none(),
                "{path} {stranger}"
            );
        }
    }
    // OPTIONS without an Origin is not a CORS request, and not a 405 either.
    let response = http()
        .request(reqwest::Method::OPTIONS, app.url("/oauth/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(header(&response, "allow").unwrap().contains("POST"));
}

#[tokio::test]
async fn a_disabled_client_s_origin_is_not_registered_any_more() {
    let app = spawn_app().await;
    let client = spa_client(&app).await;
    app.disable_client(&client).await;
    let response = preflight(&app, "/oauth/token", SPA, "POST").await;
    assert!(header(&response, "access-control-allow-origin").is_none());
}

#[tokio::test]
async fn token_answers_are_readable_by_the_client_s_origin_only() {
    let app = spawn_app().await;
    let client = spa_client(&app).await;
    // Another client registers OTHER: the origin is known to the server, just not this
    // client's.
    app.client(NewClient {
        web_origins: vec![OTHER.to_owned()],
        ..public("Another App")
    })
    .await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let code = app
        .code_flow(EMAIL, &request(client.id.as_str(), &pkce, "openid"), None)
        .await
        .code();
    let exchange = |origin: &'static str, code: String, verifier: String| {
        let app = &app;
        let client_id = client.id.to_string();
        async move {
            http()
                .post(app.url("/oauth/token"))
                .header("origin", origin)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", REDIRECT_URI),
                    ("code_verifier", verifier.as_str()),
                    ("client_id", client_id.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let response = exchange(SPA, code, pkce.verifier.clone()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(SPA)
    );
    assert!(header(&response, "vary").unwrap().contains("origin"));
    let exposed = header(&response, "access-control-expose-headers").unwrap();
    assert!(exposed.contains("www-authenticate"), "{exposed}");
    // A browser app using DPoP reads the server's nonce (RFC 9449 §8).
    assert!(exposed.contains("dpop-nonce"), "{exposed}");
    let tokens: serde_json::Value = response.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    // An error is readable too, so the app can tell why.
    let response = exchange(SPA, "used-or-wrong".into(), pkce.verifier.clone()).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(SPA)
    );

    // Another client's origin cannot read this client's answers, even though it is registered.
    let response = exchange(OTHER, "used-or-wrong".into(), pkce.verifier.clone()).await;
    assert!(header(&response, "access-control-allow-origin").is_none());
    assert!(header(&response, "vary").unwrap().contains("origin"));

    // Userinfo: the token's client decides.
    for (origin, readable) in [(SPA, true), (OTHER, false)] {
        let response = http()
            .get(app.url("/oauth/userinfo"))
            .header("origin", origin)
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, "access-control-allow-origin").is_some(),
            readable,
            "{origin}"
        );
    }
    // Revocation by the public client, from its origin.
    let response = http()
        .post(app.url("/oauth/revoke"))
        .header("origin", SPA)
        .form(&[
            ("token", access.as_str()),
            ("client_id", client.id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(SPA)
    );
}

#[tokio::test]
async fn the_authorization_endpoint_pages_and_admin_api_send_no_cors_headers() {
    let app = spawn_app().await;
    let client = spa_client(&app).await;
    let pkce = Pkce::new();
    let query = request(client.id.as_str(), &pkce, "openid");
    let authorize = http()
        .get(app.url("/oauth/authorize"))
        .query(&query)
        .header("origin", SPA)
        .send()
        .await
        .unwrap();
    let login = http()
        .get(app.url("/login"))
        .header("origin", SPA)
        .send()
        .await
        .unwrap();
    let admin = http()
        .get(app.url("/admin/v1/clients"))
        .header("origin", SPA)
        .send()
        .await
        .unwrap();
    for response in [&authorize, &login, &admin] {
        assert!(
            header(response, "access-control-allow-origin").is_none(),
            "{}",
            response.url()
        );
    }
    let preflight = preflight(&app, "/oauth/authorize", SPA, "POST").await;
    assert!(header(&preflight, "access-control-allow-origin").is_none());
}
