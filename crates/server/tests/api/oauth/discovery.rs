//! `/.well-known/oauth-authorization-server` (RFC 8414) and `/.well-known/openid-configuration`
//! (OpenID Connect Discovery 1.0): complete, and true of the running server.

use std::collections::BTreeSet;

use portcullis_core::scopes::{ADMIN_SCOPE, DEFAULT_SCOPES};
use portcullis_proto::ScopeSet;
use portcullis_testkit::flow::confidential;
use portcullis_testkit::{TestApp, spawn_app};
use serde_json::Value;

use crate::oauth_kit::{client_credentials, jwks, token};

async fn document(app: &TestApp, path: &str) -> Value {
    let response = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    response.json().await.unwrap()
}

fn set(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{value} is not a list"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn strings(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn both_well_known_urls_serve_the_same_document() {
    let app = spawn_app().await;
    let oauth = document(&app, "/.well-known/oauth-authorization-server").await;
    let openid = document(&app, "/.well-known/openid-configuration").await;
    assert_eq!(oauth, openid);
}

#[tokio::test]
async fn discovery_issuer_is_the_base_url_and_announces_the_iss_parameter() {
    let app = spawn_app().await;
    let doc = document(&app, "/.well-known/openid-configuration").await;
    assert_eq!(doc["issuer"], app.base.as_str());
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    for field in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
        "userinfo_endpoint",
    ] {
        assert!(
            doc[field]
                .as_str()
                .is_some_and(|u| u.starts_with(&app.base)),
            "{field}: {}",
            doc[field]
        );
    }
    assert_eq!(set(&doc["response_types_supported"]), strings(&["code"]));
    assert_eq!(set(&doc["subject_types_supported"]), strings(&["public"]));
}

#[tokio::test]
async fn every_url_in_discovery_answers() {
    let app = spawn_app().await;
    let doc = document(&app, "/.well-known/oauth-authorization-server").await;
    let mut checked = 0;
    for (field, value) in doc.as_object().unwrap() {
        let Some(url) = value.as_str().filter(|v| v.starts_with("http")) else {
            continue;
        };
        // The endpoints and the JWKS; `service_documentation` (/openapi.json) belongs to the
        // admin and resource APIs.
        if !(field.ends_with("_endpoint") || field == "jwks_uri") {
            continue;
        }
        assert!(
            url.starts_with(&app.base),
            "{field} {url} is on this server"
        );
        let post = matches!(
            field.as_str(),
            "token_endpoint"
                | "revocation_endpoint"
                | "introspection_endpoint"
                | "pushed_authorization_request_endpoint"
        );
        let request = if post {
            app.http.post(url).form(&[("x", "y")])
        } else {
            app.http.get(url)
        };
        let status = request.send().await.unwrap().status();
        assert!(
            status != 404 && status != 405 && !status.is_server_error(),
            "{field} {url} answered {status}"
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} URLs");
    // userinfo answers POST too (OpenID Connect Core §5.3).
    let status = app
        .http
        .post(doc["userinfo_endpoint"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn discovery_lists_the_grants_auth_methods_and_pkce_methods_the_server_supports() {
    let app = spawn_app().await;
    let doc = document(&app, "/.well-known/openid-configuration").await;
    let grants = set(&doc["grant_types_supported"]);
    assert_eq!(
        grants,
        strings(&["authorization_code", "refresh_token", "client_credentials"])
    );
    let (client, secret) = app.client(confidential("Back office")).await;
    // Every listed grant is known to the token endpoint; the grants left out are not.
    for grant in &grants {
        let answer = token(
            &app,
            client.id.as_str(),
            secret.as_ref(),
            &[("grant_type", grant.as_str())],
        )
        .await;
        assert_ne!(answer.body["error"], "unsupported_grant_type", "{grant}");
    }
    for grant in [
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
    ] {
        token(
            &app,
            client.id.as_str(),
            secret.as_ref(),
            &[("grant_type", grant)],
        )
        .await
        .assert_error(400, "unsupported_grant_type");
    }
    let methods = [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ];
    assert_eq!(
        set(&doc["token_endpoint_auth_methods_supported"]),
        strings(&methods)
    );
    assert_eq!(
        set(&doc["revocation_endpoint_auth_methods_supported"]),
        strings(&methods)
    );
    // Public clients cannot introspect (see introspection tests), so `none` is not listed.
    assert_eq!(
        set(&doc["introspection_endpoint_auth_methods_supported"]),
        strings(&methods[..3])
    );
    for endpoint in ["token", "revocation", "introspection"] {
        assert_eq!(
            set(&doc[format!("{endpoint}_endpoint_auth_signing_alg_values_supported")]),
            strings(&["ES256", "PS256", "EdDSA", "Ed25519"]),
            "{endpoint}"
        );
    }
    assert!(set(&doc["code_challenge_methods_supported"]).contains("S256"));
    assert_eq!(set(&doc["response_modes_supported"]), strings(&["query"]));
}

#[tokio::test]
async fn discovery_algorithms_match_the_keys_and_tokens() {
    let app = spawn_app().await;
    let doc = document(&app, "/.well-known/openid-configuration").await;
    let published: BTreeSet<String> = jwks(&app)
        .await
        .keys
        .iter()
        .map(|k| k.common.key_algorithm.unwrap().to_string())
        .collect();
    let id_token_algs = set(&doc["id_token_signing_alg_values_supported"]);
    assert!(
        id_token_algs.contains("RS256"),
        "OpenID Connect requires RS256"
    );
    for alg in &id_token_algs {
        assert!(
            published.contains(alg),
            "{alg} is listed but no key signs with it"
        );
    }
    let access_algs = set(&doc["access_token_signing_alg_values_supported"]);
    let (client, secret) = app.client(confidential("Back office")).await;
    let access = client_credentials(&app, &client, &secret.unwrap(), None)
        .await
        .str("access_token");
    let header = jsonwebtoken::decode_header(&access).unwrap();
    assert_eq!(access_algs, strings(&[&format!("{:?}", header.alg)]));
}

#[tokio::test]
async fn discovery_scopes_are_the_ones_clients_can_get() {
    let app = spawn_app().await;
    let doc = document(&app, "/.well-known/openid-configuration").await;
    let scopes = set(&doc["scopes_supported"]);
    let expected: BTreeSet<String> = DEFAULT_SCOPES
        .iter()
        .map(|(s, _)| (*s).to_owned())
        .filter(|s| s != ADMIN_SCOPE)
        .collect();
    assert_eq!(scopes, expected);
    assert!(scopes.contains("openid"));
    // A client registered with every listed scope gets them all.
    let all = scopes.iter().cloned().collect::<Vec<_>>().join(" ");
    let (client, secret) = app
        .client(portcullis_core::admin::clients::NewClient {
            scopes: ScopeSet::parse(&all).unwrap(),
            ..confidential("Everything")
        })
        .await;
    let answer = client_credentials(&app, &client, &secret.unwrap(), Some(&all)).await;
    let granted: BTreeSet<String> = answer.assert_tokens()["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect();
    assert_eq!(granted, scopes);
}
