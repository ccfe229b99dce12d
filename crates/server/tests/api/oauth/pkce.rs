//! PKCE at the authorization endpoint and its check at the token endpoint (RFC 7636 §4.3,
//! §4.6; RFC 9700 §2.1.1): S256 required by default, `plain` and a missing method only for a
//! client configured for them, and no downgrade at the token endpoint.

use portcullis_core::admin::clients::NewClient;
use portcullis_core::client::PkcePolicy;
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{
    Pkce, browser, confidential, expect_error_redirect, param, public, request, with, without,
};
use portcullis_testkit::spawn_app;

const EMAIL: &str = "alice@example.com";

/// Checks that `params` is refused with `invalid_request` at the redirect URI, state echoed.
async fn refused(app: &TestApp, params: &[(&str, &str)], description_mentions: &str) {
    let response = app.authorize(&browser(), params).await;
    let url = expect_error_redirect(app, &response, "invalid_request");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
    let description = param(&url, "error_description").unwrap();
    assert!(description.contains(description_mentions), "{description}");
}

#[tokio::test]
async fn public_client_without_code_challenge_is_refused() {
    let app = spawn_app().await;
    let (client, _) = app.client(public("Mobile")).await;
    let pkce = Pkce::new();
    let params = without(
        &without(
            &request(client.id.as_str(), &pkce, "openid"),
            "code_challenge",
        ),
        "code_challenge_method",
    );
    refused(&app, &params, "code_challenge").await;
}

#[tokio::test]
async fn confidential_client_without_code_challenge_is_refused_by_default() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Web")).await;
    let pkce = Pkce::new();
    let params = without(
        &without(
            &request(client.id.as_str(), &pkce, "openid"),
            "code_challenge",
        ),
        "code_challenge_method",
    );
    refused(&app, &params, "code_challenge").await;
}

#[tokio::test]
async fn plain_method_is_refused_by_default() {
    let app = spawn_app().await;
    for new in [confidential("Web"), public("Mobile")] {
        let (client, _) = app.client(new).await;
        let pkce = Pkce::new();
        let params = with(
            &with(
                &request(client.id.as_str(), &pkce, "openid"),
                "code_challenge_method",
                "plain",
            ),
            "code_challenge",
            &pkce.verifier,
        );
        refused(&app, &params, "plain").await;
    }
}

#[tokio::test]
async fn missing_method_means_plain_and_is_refused_by_default() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Web")).await;
    let pkce = Pkce::new();
    let params = without(
        &request(client.id.as_str(), &pkce, "openid"),
        "code_challenge_method",
    );
    refused(&app, &params, "plain").await;
}

#[tokio::test]
async fn unknown_method_is_refused() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Web")).await;
    let pkce = Pkce::new();
    for method in ["s256", "SHA256", "S512"] {
        let params = with(
            &request(client.id.as_str(), &pkce, "openid"),
            "code_challenge_method",
            method,
        );
        refused(&app, &params, "S256").await;
    }
}

#[tokio::test]
async fn malformed_code_challenge_is_refused() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Web")).await;
    let pkce = Pkce::new();
    let too_long = "a".repeat(129);
    let padded = format!("{}=", &pkce.challenge[..42]);
    let standard_base64 = format!("{}+/", &pkce.challenge[..41]);
    for challenge in [
        "short",
        &pkce.challenge[..42],
        too_long.as_str(),
        &padded,
        &standard_base64,
    ] {
        let params = with(
            &request(client.id.as_str(), &pkce, "openid"),
            "code_challenge",
            challenge,
        );
        refused(&app, &params, "code_challenge").await;
    }
}

#[tokio::test]
async fn plain_is_accepted_for_a_client_configured_for_it() {
    let app = spawn_app().await;
    let (client, secret) = app
        .client(NewClient {
            pkce: PkcePolicy::PlainAllowed,
            ..confidential("Legacy")
        })
        .await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let explicit = with(
        &with(
            &request(client.id.as_str(), &pkce, "openid"),
            "code_challenge_method",
            "plain",
        ),
        "code_challenge",
        &pkce.verifier,
    );
    // A missing method means plain (RFC 7636 §4.3).
    let implicit = without(&explicit, "code_challenge_method");
    for params in [explicit, implicit] {
        let code = app.code_flow(EMAIL, &params, None).await.code();
        let (status, body) = app
            .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
            .await;
        assert_eq!(status, 200, "{params:?}: {body}");
    }
    // S256 still works for it, and a plain challenge still needs the right verifier.
    let params = request(client.id.as_str(), &pkce, "openid");
    let code = app.code_flow(EMAIL, &params, None).await.code();
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{body}");
    let other = Pkce::new();
    let params = with(
        &with(
            &request(client.id.as_str(), &pkce, "openid"),
            "code_challenge_method",
            "plain",
        ),
        "code_challenge",
        &pkce.verifier,
    );
    let code = app.code_flow(EMAIL, &params, None).await.code();
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &code, Some(&other.verifier))
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn optional_policy_lets_a_confidential_client_skip_pkce() {
    let app = spawn_app().await;
    let (client, secret) = app
        .client(NewClient {
            pkce: PkcePolicy::Optional,
            ..confidential("Old School")
        })
        .await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let params = without(
        &without(
            &request(client.id.as_str(), &pkce, "openid"),
            "code_challenge",
        ),
        "code_challenge_method",
    );
    let code = app.code_flow(EMAIL, &params, None).await.code();
    let (status, body) = app.exchange(&client, secret.as_ref(), &code, None).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn verifier_for_a_code_issued_without_challenge_is_invalid_grant() {
    // RFC 9700 §2.1.1: a code_verifier for a request that had no code_challenge is refused, so
    // an attacker cannot inject a code obtained without PKCE into a PKCE-protected session.
    let app = spawn_app().await;
    let (client, secret) = app
        .client(NewClient {
            pkce: PkcePolicy::Optional,
            ..confidential("Old School")
        })
        .await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let params = without(
        &without(
            &request(client.id.as_str(), &pkce, "openid"),
            "code_challenge",
        ),
        "code_challenge_method",
    );
    let code = app.code_flow(EMAIL, &params, None).await.code();
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn wrong_or_missing_verifier_is_invalid_grant() {
    let app = spawn_app().await;
    let (client, _) = app.client(public("Mobile")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let params = request(client.id.as_str(), &pkce, "openid");
    let other = Pkce::new();
    // The verifier of another flow; the challenge itself (a plain downgrade); none at all.
    for verifier in [
        Some(other.verifier.as_str()),
        Some(pkce.challenge.as_str()),
        None,
    ] {
        let code = app.code_flow(EMAIL, &params, None).await.code();
        let (status, body) = app.exchange(&client, None, &code, verifier).await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{verifier:?}: {body}"
        );
    }
    // And the right one works for a public client authenticating with its client_id alone.
    let code = app.code_flow(EMAIL, &params, None).await.code();
    let (status, body) = app
        .exchange(&client, None, &code, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{body}");
}
