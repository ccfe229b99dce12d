//! The authorization code flow end to end over HTTP.

use portcullis_testkit::flow::{Pkce, REDIRECT_URI, confidential};
use portcullis_testkit::spawn_app;

#[tokio::test]
async fn code_flow_with_pkce_issues_tokens_and_refreshes() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user("alice@example.com").await;
    let pkce = Pkce::new();
    let callback = app
        .code_flow(
            "alice@example.com",
            &[
                ("response_type", "code"),
                ("client_id", client.id.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("scope", "openid wallet:read"),
                ("state", "xyz"),
                ("code_challenge", &pkce.challenge),
                ("code_challenge_method", "S256"),
            ],
            None,
        )
        .await;
    assert_eq!(callback.get("state").as_deref(), Some("xyz"));
    assert_eq!(callback.get("iss").as_deref(), Some(app.base.as_str()));
    let code = callback.code();
    let (status, body) = app
        .token(
            client.id.as_str(),
            secret.as_ref(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid wallet:read");
    assert!(body["id_token"].is_string());
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = app
        .token(
            client.id.as_str(),
            secret.as_ref(),
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(body["refresh_token"].as_str().unwrap(), refresh);
}
