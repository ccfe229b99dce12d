//! The client credentials grant (RFC 6749 §4.4) and the token endpoint's request rules:
//! client authentication (§2.3), bodies, and the §5.2 errors.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use portcullis_core::client::{ClientKind, GrantType};
use portcullis_core::store::ClientStore as _;
use portcullis_proto::{ScopeSet, Secret};
use portcullis_testkit::flow::{SCOPES, confidential, public};
use portcullis_testkit::{AppOptions, Backend, TestApp, spawn_app, spawn_app_with};
use serde_json::json;

use crate::oauth_kit::{Answer, Expect, check_access_token, client_credentials, post_raw, token};

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

async fn client_credentials_issue_verified_tokens(app: TestApp) {
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();

    // HTTP Basic, no scope: every scope the client may have.
    let answer = client_credentials(&app, &client, &secret, None).await;
    let body = answer.assert_tokens();
    assert_eq!(body["expires_in"], 3600);
    assert!(
        body.get("refresh_token").is_none(),
        "no refresh token (RFC 6749 §4.4.3)"
    );
    assert!(body.get("id_token").is_none());
    let scope: HashSet<&str> = body["scope"].as_str().unwrap().split(' ').collect();
    assert_eq!(scope, SCOPES.split(' ').collect());
    let expect = Expect {
        sub: client.id.as_str(),
        client_id: client.id.as_str(),
        scope: SCOPES,
        user: false,
    };
    let first = check_access_token(&app, &answer.str("access_token"), &expect).await;

    // client_secret_post, with a subset.
    let answer = token(
        &app,
        client.id.as_str(),
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", secret.expose()),
            ("scope", "wallet:read orders:read"),
        ],
    )
    .await;
    assert_eq!(answer.assert_tokens()["scope"], "orders:read wallet:read");
    let subset = Expect {
        scope: "wallet:read orders:read",
        ..expect
    };
    let second = check_access_token(&app, &answer.str("access_token"), &subset).await;

    // A JSON body with the secret in it (as the Monei guide sends).
    let answer = post_raw(
        &app,
        "/oauth/token",
        "application/json",
        json!({
            "grant_type": "client_credentials",
            "client_id": client.id.as_str(),
            "client_secret": secret.expose(),
            "scope": "wallet:read",
        })
        .to_string(),
    )
    .await;
    answer.assert_tokens();
    let json_scope = Expect {
        scope: "wallet:read",
        ..expect
    };
    let third = check_access_token(&app, &answer.str("access_token"), &json_scope).await;

    let jtis: HashSet<_> = [&first, &second, &third]
        .iter()
        .map(|c| c["jti"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(jtis.len(), 3, "every token has its own jti");
}

#[tokio::test]
async fn client_credentials_issue_verified_tokens_on_sqlite() {
    client_credentials_issue_verified_tokens(spawn_app().await).await;
}

#[tokio::test]
async fn client_credentials_issue_verified_tokens_on_postgres() {
    let options = AppOptions {
        backend: Backend::Postgres,
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(options).await else {
        return;
    };
    client_credentials_issue_verified_tokens(app).await;
}

#[tokio::test]
async fn client_credentials_scope_outside_the_client_is_invalid_scope() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    // Known to the server, not allowed to this client.
    client_credentials(&app, &client, &secret, Some("wallet:read orders:write"))
        .await
        .assert_error(400, "invalid_scope");
    // Unknown to the server.
    client_credentials(&app, &client, &secret, Some("no-such-scope"))
        .await
        .assert_error(400, "invalid_scope");
    // The admin scope only for admin clients.
    client_credentials(&app, &client, &secret, Some("admin"))
        .await
        .assert_error(400, "invalid_scope");
}

#[tokio::test]
async fn public_client_cannot_use_client_credentials() {
    let app = spawn_app().await;
    let (client, _) = app.client(public("Mobile app")).await;
    // A public client authenticates with its id only; it is not allowed the grant.
    token(
        &app,
        client.id.as_str(),
        None,
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(400, "unauthorized_client");
}

#[tokio::test]
async fn public_client_with_client_credentials_in_its_record_is_still_refused() {
    let app = spawn_app_with(AppOptions {
        configure: |c| c.client_cache_ttl = Duration::ZERO,
        ..AppOptions::default()
    })
    .await
    .unwrap();
    let (mut client, _) = app.client(public("Mobile app")).await;
    // Registration refuses this combination; a record changed behind its back must not turn
    // an unauthenticated request into a token (RFC 6749 §4.4: confidential clients only).
    client.grant_types.insert(GrantType::ClientCredentials);
    assert_eq!(client.kind, ClientKind::Public);
    assert!(app.store.update_client(&client).await.unwrap());
    token(
        &app,
        client.id.as_str(),
        None,
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(400, "unauthorized_client");
}

#[tokio::test]
async fn client_not_allowed_the_grant_is_unauthorized_client() {
    let app = spawn_app().await;
    let (client, secret) = app
        .client(portcullis_core::admin::clients::NewClient {
            grant_types: BTreeSet::from([GrantType::AuthorizationCode, GrantType::RefreshToken]),
            ..confidential("Web app")
        })
        .await;
    client_credentials(&app, &client, &secret.unwrap(), None)
        .await
        .assert_error(400, "unauthorized_client");
}

#[tokio::test]
async fn unknown_grant_type_is_unsupported_grant_type() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    for grant in [
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
    ] {
        token(
            &app,
            client.id.as_str(),
            Some(&secret),
            &[("grant_type", grant)],
        )
        .await
        .assert_error(400, "unsupported_grant_type");
    }
}

#[tokio::test]
async fn error_descriptions_never_echo_request_input() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let hostile = "pass\"wo\\rd\u{0}\u{a7}\u{e9}";
    for (params, code) in [
        (vec![("grant_type", hostile)], "unsupported_grant_type"),
        (
            vec![("grant_type", "client_credentials"), ("scope", hostile)],
            "invalid_scope",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("scope", "zz-unknown"),
            ],
            "invalid_scope",
        ),
    ] {
        let response = token(&app, client.id.as_str(), Some(&secret), &params).await;
        response.assert_error(400, code);
        let description = response.body["error_description"].as_str().unwrap();
        for echoed in ["pass", "wo", "zz-unknown"] {
            assert!(!description.contains(echoed), "{description}");
        }
    }
}

#[tokio::test]
async fn missing_grant_type_is_invalid_request() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    token(
        &app,
        client.id.as_str(),
        secret.as_ref(),
        &[("scope", "openid")],
    )
    .await
    .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn repeated_parameter_is_invalid_request() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    for form in [
        "grant_type=client_credentials&grant_type=client_credentials",
        "grant_type=client_credentials&scope=openid&scope=email",
    ] {
        let response = app
            .http
            .post(app.url("/oauth/token"))
            .basic_auth(client.id.as_str(), Some(secret.expose()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        Answer::of(response)
            .await
            .assert_error(400, "invalid_request");
    }
    // The same rule for a repeated client_id or client_secret.
    let form = format!(
        "grant_type=client_credentials&client_id={id}&client_id={id}&client_secret={s}",
        id = client.id.as_str(),
        s = secret.expose()
    );
    post_raw(
        &app,
        "/oauth/token",
        "application/x-www-form-urlencoded",
        form,
    )
    .await
    .assert_error(400, "invalid_request");
    // And in a JSON body.
    let body = format!(
        r#"{{"grant_type":"client_credentials","grant_type":"client_credentials","client_id":"{}","client_secret":"{}"}}"#,
        client.id.as_str(),
        secret.expose()
    );
    post_raw(&app, "/oauth/token", "application/json", body)
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn basic_and_client_secret_in_body_is_invalid_request() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let answer = token(
        &app,
        client.id.as_str(),
        Some(&secret),
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", secret.expose()),
        ],
    )
    .await;
    answer.assert_error(400, "invalid_request");
    // Also when the body's id differs from the header's.
    let (other, _) = app.client(confidential("Other")).await;
    token(
        &app,
        client.id.as_str(),
        Some(&secret),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", other.id.as_str()),
        ],
    )
    .await
    .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn wrong_secret_with_basic_is_401_with_a_basic_challenge() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Back office")).await;
    let answer = client_credentials(&app, &client, &Secret::new("wrong"), None).await;
    answer.assert_error(401, "invalid_client");
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Basic realm=\"portcullis\"")
    );
    // A malformed Basic header fails the same way.
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .header("authorization", "Basic !!not-base64!!")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let answer = Answer::of(response).await;
    answer.assert_error(401, "invalid_client");
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Basic realm=\"portcullis\"")
    );
}

#[tokio::test]
async fn wrong_secret_with_client_secret_post_is_401_without_a_challenge() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Back office")).await;
    let answer = token(
        &app,
        client.id.as_str(),
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    answer.assert_error(401, "invalid_client");
    assert_eq!(answer.header("www-authenticate"), None);
    // A confidential client that sends no secret at all.
    let answer = token(
        &app,
        client.id.as_str(),
        None,
        &[("grant_type", "client_credentials")],
    )
    .await;
    answer.assert_error(401, "invalid_client");
    assert_eq!(answer.header("www-authenticate"), None);
    // No client at all.
    let answer = post_raw(
        &app,
        "/oauth/token",
        "application/x-www-form-urlencoded",
        "grant_type=client_credentials".into(),
    )
    .await;
    answer.assert_error(401, "invalid_client");
}

#[tokio::test]
async fn unknown_client_is_invalid_client() {
    let app = spawn_app().await;
    let answer = client_credentials(
        &app,
        &app.client(confidential("Real")).await.0,
        &Secret::new("x"),
        None,
    )
    .await;
    answer.assert_error(401, "invalid_client");
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .header("authorization", basic("no-such-client", "secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let unknown = Answer::of(response).await;
    unknown.assert_error(401, "invalid_client");
    assert_eq!(
        unknown.header("www-authenticate"),
        Some("Basic realm=\"portcullis\"")
    );
    assert_eq!(
        unknown.body["error_description"], answer.body["error_description"],
        "an unknown client and a wrong secret are not told apart"
    );
}

#[tokio::test]
async fn disabled_client_is_invalid_client() {
    let app = spawn_app_with(AppOptions {
        configure: |c| c.client_cache_ttl = Duration::ZERO,
        ..AppOptions::default()
    })
    .await
    .unwrap();
    let (mut client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    client_credentials(&app, &client, &secret, None)
        .await
        .assert_tokens();
    client.enabled = false;
    assert!(app.store.update_client(&client).await.unwrap());
    client_credentials(&app, &client, &secret, None)
        .await
        .assert_error(401, "invalid_client");
}

#[tokio::test]
async fn disabled_client_is_refused_once_the_cache_entry_expires() {
    let app = spawn_app().await;
    let (mut client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let answer = client_credentials(&app, &client, &secret, None).await;
    answer.assert_tokens();
    let token = answer.str("access_token");
    client.enabled = false;
    assert!(app.store.update_client(&client).await.unwrap());
    app.clock.advance(6);
    client_credentials(&app, &client, &secret, None)
        .await
        .assert_error(401, "invalid_client");
    // Its tokens stop working too.
    let (resource, resource_secret) = app.client(confidential("Resource server")).await;
    assert!(!crate::oauth_kit::active(&app, &resource, &resource_secret.unwrap(), &token).await);
}

#[tokio::test]
async fn unsupported_content_type_is_invalid_request() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client.id.as_str(),
        secret.unwrap().expose()
    );
    for content_type in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
    ] {
        post_raw(&app, "/oauth/token", content_type, body.clone())
            .await
            .assert_error(400, "invalid_request");
    }
    // Form with a charset parameter is still a form.
    post_raw(
        &app,
        "/oauth/token",
        "application/x-www-form-urlencoded; charset=UTF-8",
        body,
    )
    .await
    .assert_tokens();
    // A malformed JSON body.
    post_raw(&app, "/oauth/token", "application/json", "{not json".into())
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn empty_parameter_values_are_treated_as_absent() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    // scope= is no scope: the default.
    let answer = token(
        &app,
        client.id.as_str(),
        Some(&secret),
        &[("grant_type", "client_credentials"), ("scope", "")],
    )
    .await;
    let scope: HashSet<&str> = answer.assert_tokens()["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .collect();
    assert_eq!(scope, SCOPES.split(' ').collect());
    // An empty client_secret beside Basic is not a second method.
    token(
        &app,
        client.id.as_str(),
        Some(&secret),
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", ""),
            ("client_id", ""),
        ],
    )
    .await
    .assert_tokens();
    // An empty grant_type is a missing one.
    token(
        &app,
        client.id.as_str(),
        Some(&secret),
        &[("grant_type", "")],
    )
    .await
    .assert_error(400, "invalid_request");
    // An empty client_secret with client_secret_post is no secret: a confidential client fails.
    token(
        &app,
        client.id.as_str(),
        None,
        &[("grant_type", "client_credentials"), ("client_secret", "")],
    )
    .await
    .assert_error(401, "invalid_client");
}

#[tokio::test]
async fn client_credentials_scope_may_not_exceed_a_narrowed_client() {
    let app = spawn_app_with(AppOptions {
        configure: |c| c.client_cache_ttl = Duration::ZERO,
        ..AppOptions::default()
    })
    .await
    .unwrap();
    let (mut client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    client.scopes = ScopeSet::parse("wallet:read").unwrap();
    assert!(app.store.update_client(&client).await.unwrap());
    let answer = client_credentials(&app, &client, &secret, None).await;
    assert_eq!(answer.assert_tokens()["scope"], "wallet:read");
    client_credentials(&app, &client, &secret, Some("orders:read"))
        .await
        .assert_error(400, "invalid_scope");
}

#[tokio::test]
async fn token_endpoint_answers_503_when_the_database_is_unavailable() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    app.store.close().await;
    let answer = client_credentials(&app, &client, &secret, None).await;
    answer.assert_error(503, "temporarily_unavailable");
    assert!(answer.header("retry-after").is_some());
    crate::oauth_kit::refresh(&app, &client, Some(&secret), "some-refresh-token", None)
        .await
        .assert_error(503, "temporarily_unavailable");
}

#[tokio::test]
async fn malformed_scope_is_invalid_scope() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    // RFC 6749 §5.2: invalid_scope covers a scope that is "invalid, unknown, malformed".
    for scope in ["wallet:read  openid", "wallet\"read", "wallet:read\\x", "é"] {
        client_credentials(&app, &client, &secret, Some(scope))
            .await
            .assert_error(400, "invalid_scope");
    }
}

#[tokio::test]
async fn access_token_lifetime_is_the_clients() {
    let app = spawn_app().await;
    let (client, secret) = app
        .client(portcullis_core::admin::clients::NewClient {
            access_token_ttl: Some(600),
            ..confidential("Short-lived")
        })
        .await;
    let secret = secret.unwrap();
    let answer = client_credentials(&app, &client, &secret, None).await;
    assert_eq!(answer.assert_tokens()["expires_in"], 600);
    let token = answer.str("access_token");
    let (_, claims) = crate::oauth_kit::verify_jwt(&app, &token, &app.base).await;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    app.clock.advance(599);
    assert!(crate::oauth_kit::active(&app, &client, &secret, &token).await);
    app.clock.advance(1);
    assert!(!crate::oauth_kit::active(&app, &client, &secret, &token).await);
}

#[tokio::test]
async fn access_token_audience_is_the_configured_one() {
    let app = spawn_app_with(AppOptions {
        configure: |c| c.audience = Some("https://api.example".into()),
        ..AppOptions::default()
    })
    .await
    .unwrap();
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let token = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    let (_, claims) = crate::oauth_kit::verify_jwt(&app, &token, "https://api.example").await;
    assert_eq!(claims["iss"], app.base.as_str());
    let answer = crate::oauth_kit::introspect(&app, &client, Some(&secret), &token).await;
    assert_eq!(answer.body["aud"], "https://api.example");
}
