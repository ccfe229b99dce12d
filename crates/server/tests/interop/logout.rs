//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) as each library does it:
//! `end_session_endpoint` from discovery with `id_token_hint`, `post_logout_redirect_uri` and
//! `state`, the browser sent back to the client with the `state`, and the session gone
//! (`prompt=none` then answers `login_required`).
//!
//! Switched on by [`RP_INITIATED_LOGOUT`]: every client the tests register has
//! [`POST_LOGOUT_REDIRECT_URI`] among its post-logout redirect URIs (`kit::oidc_client`, and the
//! admin API registration in `authlib.rs`). Turning it off leaves the flows without logout.
//!
//! Every code-flow script builds the end-session URL with its library's own builder
//! (openid-client `buildEndSessionUrl`, Authlib `create_logout_url`, by hand for oauth4webapi,
//! which has none) when `LOGOUT_REDIRECT_URI` is in its environment.

use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{Pkce, location, param, request};
use serde_json::Value;

use crate::script::Script;

/// Whether the library flows end with RP-initiated logout. See the module documentation.
pub const RP_INITIATED_LOGOUT: bool = true;

/// Where the clients ask to be sent after logout.
pub const POST_LOGOUT_REDIRECT_URI: &str = "https://client.example/logged-out";

/// `script` with `LOGOUT_REDIRECT_URI` when logout is switched on.
pub fn for_script(script: Script) -> Script {
    if RP_INITIATED_LOGOUT {
        script.env("LOGOUT_REDIRECT_URI", POST_LOGOUT_REDIRECT_URI)
    } else {
        script
    }
}

/// The user opens the end-session URL in `browser`; returns where the browser was sent. The
/// hint names this browser's session, so no confirmation page is shown.
pub async fn user_logs_out(app: &TestApp, browser: &reqwest::Client, url: &str) -> String {
    let response = browser.get(url).send().await.unwrap();
    let response = app.follow(browser, response).await;
    assert!(
        response.status().is_redirection(),
        "end session answered {} at {}",
        response.status(),
        response.url()
    );
    location(&app.base, &response).to_string()
}

/// What the script and the server must show after the flow: nothing when logout is off; the
/// redirect with the state, and no session left, when it is on.
pub async fn check(app: &TestApp, browser: &reqwest::Client, result: &Value) {
    let logged_out = &result["logged_out"];
    if !RP_INITIATED_LOGOUT {
        assert!(logged_out.is_null(), "{result:#}");
        return;
    }
    assert_eq!(logged_out["landed"], POST_LOGOUT_REDIRECT_URI, "{result:#}");
    assert_eq!(logged_out["state_echoed"], true, "{result:#}");
    let client_id = result["id_token"]["aud"].as_str().unwrap_or_default();
    let pkce = Pkce::new();
    let mut params = request(client_id, &pkce, "openid");
    params.push(("prompt", "none"));
    let response = app.authorize(browser, &params).await;
    let url = location(&app.base, &response);
    assert_eq!(
        param(&url, "error").as_deref(),
        Some("login_required"),
        "{url}"
    );
}
