//! A single-page app in Chromium: served from one loopback port, it runs the code flow against
//! Portcullis on another and fetches its tokens with `fetch`, as browser-based apps do. The
//! browser itself enforces CORS: a page from an origin the client did not register cannot
//! read the token endpoint's answer.

use std::net::SocketAddr;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use portcullis_core::admin::clients::NewClient;
use portcullis_testkit::browser::Browser;
use portcullis_testkit::flow::{PASSWORD, Pkce, public};
use portcullis_testkit::spawn_app;

const EMAIL: &str = "spa@example.com";

/// The app's callback page: exchanges the code in its URL at `token_url` with `fetch` and
/// shows the answer, or the error the browser raised.
fn callback_page(token_url: &str, client_id: &str, redirect_uri: &str, verifier: &str) -> String {
    format!(
        r#"<!doctype html><title>SPA</title><pre id="result">waiting</pre>
<script>
const code = new URLSearchParams(location.search).get("code");
const body = new URLSearchParams({{
  grant_type: "authorization_code", code: code ?? "no-code", client_id: "{client_id}",
  redirect_uri: "{redirect_uri}", code_verifier: "{verifier}"
}});
fetch("{token_url}", {{ method: "POST", body }})
  .then(r => r.json().then(j => "status " + r.status + " " + JSON.stringify(j)))
  .catch(e => "blocked " + e.name)
  .then(text => {{ document.getElementById("result").textContent = text; }});
</script>"#
    )
}

/// Serves `page` at `/cb` on a new loopback port.
async fn serve(page: String) -> SocketAddr {
    let app = Router::new().route("/cb", get(move || async move { Html(page) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// Waits up to ten seconds for `#result` to leave "waiting".
async fn result(browser: &Browser) -> String {
    for _ in 0..100 {
        if let Some(text) = browser.text_if_loaded().await
            && !text.contains("waiting")
            && text.contains("status") | text.contains("blocked")
        {
            return browser.text_of("result").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the page never finished: {}", browser.text().await)
}

#[tokio::test]
async fn a_browser_app_fetches_tokens_from_its_origin_and_others_are_refused() {
    let Some(browser) = Browser::start(
        "browser::a_browser_app_fetches_tokens_from_its_origin_and_others_are_refused",
    )
    .await
    else {
        return;
    };
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    // The listener is bound before the client is registered, so its origin is known.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let spa = listener.local_addr().unwrap();
    let origin = format!("http://127.0.0.1:{}", spa.port());
    let redirect_uri = format!("{origin}/cb");
    let (client, _) = app
        .client(NewClient {
            redirect_uris: vec![redirect_uri.clone()],
            web_origins: vec![origin.clone()],
            ..public("Browser App")
        })
        .await;
    let token_url = app.url("/oauth/token");
    let page = callback_page(
        &token_url,
        client.id.as_str(),
        &redirect_uri,
        &pkce.verifier,
    );
    let router = Router::new().route("/cb", get(move || async move { Html(page) }));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let authorize = url::Url::parse_with_params(
        &app.url("/oauth/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", "openid"),
            ("state", "spa"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    browser.goto(authorize.as_str()).await;
    browser.wait_for_path("/login").await;
    browser.fill("email", EMAIL).await;
    browser.fill("password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_path("/consent").await;
    browser.click("button[name=decision][value=allow]").await;
    browser.wait_for_path("/cb").await;
    let answer = result(&browser).await;
    assert!(answer.starts_with("status 200 "), "{answer}");
    assert!(answer.contains("\"access_token\""), "{answer}");
    assert!(answer.contains("\"id_token\""), "{answer}");

    // The same page from an origin the client did not register: the browser refuses to let
    // the script read the answer (the request is made, the response withheld).
    let stranger = serve(callback_page(
        &token_url,
        client.id.as_str(),
        &redirect_uri,
        &pkce.verifier,
    ))
    .await;
    browser
        .goto(&format!(
            "http://127.0.0.1:{}/cb?code=whatever",
            stranger.port()
        ))
        .await;
    let answer = result(&browser).await;
    assert_eq!(answer, "blocked TypeError");
    browser.close().await;
}
