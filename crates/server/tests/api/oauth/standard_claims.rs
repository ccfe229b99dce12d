//! OpenID Connect standard scopes and claims (Core §5.1, §5.4): an operator sets a user's
//! phone number and address with the admin API, and `profile`, `email`, `phone` and `address`
//! release exactly their claims, in userinfo and in the ID token, and nothing else does.

use portcullis_core::audit::{AuditFilter, AuditKind};
use portcullis_core::store::UserStore as _;
use portcullis_testkit::flow::{Pkce, confidential};
use portcullis_testkit::{TestApp, spawn_app};
use serde_json::{Value, json};

use crate::admin_kit::AdminApi;
use crate::oauth_kit::{authorize_params, redeem, verify_jwt};

const EMAIL: &str = "ada@example.com";

/// A client that may ask for every standard scope, and the banking profile.
fn oidc_client() -> portcullis_core::admin::clients::NewClient {
    portcullis_core::admin::clients::NewClient {
        scopes: portcullis_proto::ScopeSet::parse(
            "openid profile email address phone profile:read",
        )
        .unwrap(),
        ..confidential("Pied Piper")
    }
}

/// The tokens of a code flow with `scope`, and the ID token's verified claims.
async fn tokens(app: &TestApp, scope: &str) -> (String, Value) {
    let (client, secret) = app.client(oidc_client()).await;
    let secret = secret.unwrap();
    let pkce = Pkce::new();
    let params = authorize_params(&client, scope, &pkce);
    let code = app.code_flow(EMAIL, &params, None).await.code();
    let answer = redeem(app, &client, Some(&secret), &code, &pkce.verifier).await;
    answer.assert_tokens();
    let (_, claims) = verify_jwt(app, &answer.str("id_token"), client.id.as_str()).await;
    (answer.str("access_token"), claims)
}

async fn userinfo(app: &TestApp, token: &str) -> Value {
    let response = app
        .http
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The claims of `claims` other than the ID token's own.
fn released(mut claims: Value) -> Value {
    let map = claims.as_object_mut().unwrap();
    for own in [
        "iss",
        "sub",
        "aud",
        "azp",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "sid",
    ] {
        map.remove(own);
    }
    claims
}

async fn with_contact(app: &TestApp) -> AdminApi<'_> {
    let user = app.user(EMAIL).await;
    let admin = AdminApi::new(app).await;
    let answer = admin
        .patch(
            &format!("/admin/v1/users/{}", user.id),
            &json!({
                "name": "Ada Lovelace",
                "phone_number": "+44 20 7946 0958",
                "phone_number_verified": true,
                "address": {
                    "street_address": "12 St James's Square",
                    "locality": "London",
                    "postal_code": "SW1Y 4LB",
                    "country": "GB"
                }
            }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["phone_number"], "+442079460958");
    assert_eq!(answer.body["phone_number_verified"], true);
    assert_eq!(answer.body["address"]["locality"], "London");
    admin
}

#[tokio::test]
async fn each_standard_scope_releases_its_claims_in_userinfo_and_the_id_token() {
    let app = spawn_app().await;
    let _admin = with_contact(&app).await;
    let (token, id_token) = tokens(&app, "openid profile email address phone").await;
    let info = userinfo(&app, &token).await;
    let expected_address = json!({
        "formatted": "12 St James's Square\nSW1Y 4LB London\nGB",
        "street_address": "12 St James's Square",
        "locality": "London",
        "postal_code": "SW1Y 4LB",
        "country": "GB"
    });
    assert_eq!(info["name"], "Ada Lovelace");
    assert!(info["updated_at"].is_i64(), "{info}");
    assert_eq!(info["email"], EMAIL);
    assert_eq!(info["email_verified"], false, "addresses are not confirmed");
    assert_eq!(info["phone_number"], "+442079460958");
    assert_eq!(info["phone_number_verified"], true);
    assert_eq!(info["address"], expected_address);
    let mut from_userinfo = info.clone();
    from_userinfo.as_object_mut().unwrap().remove("sub");
    assert_eq!(
        released(id_token),
        from_userinfo,
        "the ID token carries what userinfo answers"
    );

    // One scope at a time: only its claims.
    for (scope, claims) in [
        ("openid profile", &["name", "updated_at"][..]),
        ("openid email", &["email", "email_verified"]),
        ("openid phone", &["phone_number", "phone_number_verified"]),
        ("openid address", &["address"]),
        ("openid", &[]),
    ] {
        let (token, id_token) = tokens(&app, scope).await;
        let info = userinfo(&app, &token).await;
        let mut keys: Vec<&str> = info
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.retain(|k| *k != "sub");
        let mut want = claims.to_vec();
        want.sort_unstable();
        keys.sort_unstable();
        assert_eq!(keys, want, "userinfo for {scope}");
        let id_keys = released(id_token);
        let mut id_keys: Vec<&str> = id_keys
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        id_keys.sort_unstable();
        assert_eq!(id_keys, want, "ID token for {scope}");
    }
}

#[tokio::test]
async fn the_banking_profile_scope_releases_no_standard_claim() {
    let app = spawn_app().await;
    let _admin = with_contact(&app).await;
    let (token, id_token) = tokens(&app, "openid profile:read").await;
    let info = userinfo(&app, &token).await;
    assert_eq!(info.as_object().unwrap().len(), 1, "only sub: {info}");
    assert_eq!(released(id_token), json!({}));
}

#[tokio::test]
async fn a_user_without_phone_or_address_gets_no_such_claims_not_nulls() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let (token, id_token) = tokens(&app, "openid phone address").await;
    let info = userinfo(&app, &token).await;
    assert_eq!(info.as_object().unwrap().len(), 1, "only sub: {info}");
    assert_eq!(released(id_token), json!({}));
}

#[tokio::test]
async fn the_admin_patch_clears_with_null_refuses_bad_values_and_is_audited() {
    let app = spawn_app().await;
    let admin = with_contact(&app).await;
    let user = app.store.user_by_email(EMAIL).await.unwrap().unwrap();
    let path = format!("/admin/v1/users/{}", user.id);
    for (body, why) in [
        (json!({"phone_number": "0044 20 7946"}), "not E.164"),
        (json!({"name": ""}), "empty name"),
        (
            json!({"address": {"locality": "x".repeat(201)}}),
            "too long",
        ),
        (json!({"address": {"town": "London"}}), "unknown part"),
        (json!({"email": "x@example.com"}), "not changeable here"),
    ] {
        let answer = admin.patch(&path, &body).await;
        assert_eq!(answer.status, 400, "{why}: {}", answer.body);
        assert_eq!(answer.body["error"], "invalid_request", "{why}");
    }
    // A new number is unconfirmed; null clears; a field left out stays.
    let answer = admin
        .patch(&path, &json!({"phone_number": "+34600123456"}))
        .await;
    assert_eq!(answer.body["phone_number_verified"], false);
    assert_eq!(answer.body["name"], "Ada Lovelace");
    let answer = admin
        .patch(&path, &json!({"phone_number": null, "address": null}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.get("phone_number").is_none(), "{}", answer.body);
    assert!(answer.body.get("address").is_none(), "{}", answer.body);
    let stored = app.store.user(&user.id).await.unwrap().unwrap();
    assert_eq!(stored.contact.phone_number, None);
    assert_eq!(stored.contact.address, None);
    let missing = admin
        .patch("/admin/v1/users/nobody", &json!({"name": "X"}))
        .await;
    assert_eq!(missing.status, 404);
    let events = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::UserUpdated),
            limit: 10,
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(events.len(), 3, "one per accepted change");
    assert!(
        !events[0].detail.to_string().contains("+34"),
        "the trail names fields, not values: {}",
        events[0].detail
    );
}

#[tokio::test]
async fn discovery_lists_the_standard_scopes_and_exactly_the_released_claims() {
    let app = spawn_app().await;
    let doc: Value = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = |key: &str| -> Vec<String> {
        doc[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    for scope in [
        "openid",
        "profile",
        "email",
        "address",
        "phone",
        "profile:read",
    ] {
        assert!(
            list("scopes_supported").contains(&scope.to_owned()),
            "{scope}"
        );
    }
    let mut claims = list("claims_supported");
    claims.sort();
    let mut want: Vec<String> = [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "azp",
        "name",
        "updated_at",
        "email",
        "email_verified",
        "address",
        "phone_number",
        "phone_number_verified",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    want.sort();
    assert_eq!(claims, want);
}
