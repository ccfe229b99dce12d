//! The admin API's users: creation, listing, lookup by id or email, disabling (which revokes
//! every grant the user gave) and KYC.

use portcullis_core::audit::{AuditFilter, AuditKind};
use portcullis_core::banking::profile::{KycState, Profile, ProfileKind};
use portcullis_core::store::{BankStore as _, UserStore as _};
use portcullis_core::time::Clock as _;
use portcullis_core::user::User;
use portcullis_proto::{ProfileId, UserId};
use portcullis_testkit::flow::{PASSWORD, confidential};
use portcullis_testkit::{TestApp, spawn_app};
use serde_json::json;

use crate::admin_kit::{AdminApi, encode};
use crate::oauth_kit::{active, refresh, user_tokens};

async fn profile_of(app: &TestApp, user: &User, id: &str) -> Profile {
    let now = app.clock.now();
    let profile = Profile {
        id: ProfileId::new(id),
        user_id: user.id.clone(),
        kind: ProfileKind::Personal,
        name: user.name.clone(),
        kyc: KycState::Absent,
        created_at: now,
        updated_at: now,
    };
    app.store.insert_profile(&profile).await.unwrap();
    profile
}

async fn kyc_of(app: &TestApp, id: &str) -> KycState {
    app.store
        .profile(&ProfileId::new(id))
        .await
        .unwrap()
        .unwrap()
        .kyc
}

#[tokio::test]
async fn users_are_created_and_found_by_id_or_email() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let answer = api
        .post(
            "/admin/v1/users",
            &json!({"email": "Ada@Example.COM", "name": " Ada ", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.str("id");
    assert_eq!(answer.body["email"], "ada@example.com", "normalised");
    assert_eq!(answer.body["name"], "Ada");
    assert_eq!(answer.body["disabled"], false);
    assert_eq!(answer.body["profiles"], json!([]));
    assert!(
        !answer.body.to_string().contains("a long enough password"),
        "{}",
        answer.body
    );

    let by_id = api.get(&format!("/admin/v1/users/{id}")).await;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.body, answer.body);
    let by_email = api
        .get(&format!("/admin/v1/users/{}", encode("ada@example.com")))
        .await;
    assert_eq!(by_email.body, answer.body);
    api.get("/admin/v1/users/nobody@example.com")
        .await
        .assert_error(404, "not_found");

    // The new account logs in with its password.
    let browser = portcullis_testkit::flow::browser();
    let login = app
        .login(&browser, "ada@example.com", "a long enough password", None)
        .await;
    assert_eq!(login.status(), 303);

    // Refusals, with their messages.
    for (body, status, code, message) in [
        (
            json!({"email": "ada@example.com", "name": "Ada", "password": "another long one"}),
            409,
            "conflict",
            "an account with this email already exists",
        ),
        (
            json!({"email": "not an email", "name": "X", "password": "a long enough password"}),
            400,
            "invalid_request",
            "email",
        ),
        (
            json!({"email": "x@example.com", "name": "X", "password": "short"}),
            400,
            "invalid_request",
            "choose a password of at least 10 characters",
        ),
        (
            json!({"email": "x@example.com", "name": "X", "password": "Password1234"}),
            400,
            "invalid_request",
            "one of the most common",
        ),
        (
            json!({"email": "xavier@example.com", "name": "X", "password": "XAVIER@example.com"}),
            400,
            "invalid_request",
            "made of your email or name",
        ),
        (
            json!({"email": "x@example.com", "name": "", "password": "a long enough password"}),
            400,
            "invalid_request",
            "enter a name of 1 to 100 characters",
        ),
        (
            json!({"email": "x@example.com", "name": "X"}),
            400,
            "invalid_request",
            "missing field `password`",
        ),
    ] {
        let answer = api.post("/admin/v1/users", &body).await;
        answer.assert_error(status, code);
        let description = answer.body["error_description"].as_str().unwrap();
        assert!(description.contains(message), "{body}: {description}");
    }

    let created = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::UserCreated),
            limit: 10,
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(created.len(), 1, "refusals record nothing");
    assert_eq!(created[0].user_id, Some(UserId::new(id)));
    assert_eq!(created[0].actor, api.actor());
    assert_eq!(created[0].ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn users_are_listed_a_page_at_a_time_with_their_profiles() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let user = app.user(&format!("user{n}@example.com")).await;
        if n == 0 {
            profile_of(&app, &user, "profile-0").await;
        }
        ids.push(user.id.to_string());
    }
    ids.sort();
    let (items, pages) = api.all_pages("/admin/v1/users", 2).await;
    let listed: Vec<&str> = items.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(listed, ids);
    assert_eq!(pages, 3);
    let with_profile = items
        .iter()
        .find(|u| u["email"] == "user0@example.com")
        .unwrap();
    assert_eq!(
        with_profile["profiles"],
        json!([{"id": "profile-0", "kind": "personal", "name": "Test User", "kyc": "absent"}])
    );
}

#[tokio::test]
async fn disabling_a_user_revokes_their_grants() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let (client, secret) = app.client(confidential("Wallet app")).await;
    let secret = secret.unwrap();
    let user = app.user("ada@example.com").await;
    let tokens = user_tokens(&app, &client, Some(&secret), "ada@example.com", "openid").await;
    let access = tokens.str("access_token");
    let refresh_token = tokens.str("refresh_token");
    assert!(active(&app, &client, &secret, &access).await);

    let answer = api
        .post_empty(&format!("/admin/v1/users/{}/disable", user.id))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["disabled"], true);

    assert!(
        !active(&app, &client, &secret, &access).await,
        "the access token introspects inactive"
    );
    refresh(&app, &client, Some(&secret), &refresh_token, None)
        .await
        .assert_error(400, "invalid_grant");
    let userinfo = app
        .http
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401, "the access token is refused");
    let browser = portcullis_testkit::flow::browser();
    let login = app.login(&browser, "ada@example.com", PASSWORD, None).await;
    let location = portcullis_testkit::flow::location(&app.base, &login);
    assert_eq!(
        location.path(),
        "/login",
        "a disabled user cannot log in: {location}"
    );
    assert!(
        location.as_str().contains("error=credentials"),
        "{location}"
    );

    let disabled = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::UserDisabled),
            limit: 10,
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].user_id, Some(user.id.clone()));
    assert_eq!(disabled[0].detail["grants_revoked"], 1);
    assert_eq!(disabled[0].actor, api.actor());

    api.post_empty("/admin/v1/users/nobody/disable")
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn kyc_is_set_on_the_users_own_profile_only() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    profile_of(&app, &ada, "ada-personal").await;
    app.clock.advance(1);
    profile_of(&app, &ada, "ada-company").await;
    profile_of(&app, &bob, "bob-personal").await;
    let kyc = |user: &User| format!("/admin/v1/users/{}/kyc", user.id);

    // Without a profile: the user's first.
    let answer = api.post(&kyc(&ada), &json!({"state": "approved"})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["profiles"][0]["kyc"], "approved");
    assert_eq!(answer.body["profiles"][1]["kyc"], "absent");
    assert_eq!(kyc_of(&app, "ada-personal").await, KycState::Approved);

    // A named profile of the user, by their email.
    let answer = api
        .post(
            "/admin/v1/users/ada@example.com/kyc",
            &json!({"state": "rejected", "profile": "ada-company"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(kyc_of(&app, "ada-company").await, KycState::Rejected);

    // Another user's profile is not found under this user, and is left alone.
    let answer = api
        .post(
            &kyc(&ada),
            &json!({"state": "approved", "profile": "bob-personal"}),
        )
        .await;
    answer.assert_error(404, "not_found");
    assert_eq!(kyc_of(&app, "bob-personal").await, KycState::Absent);

    api.post(&kyc(&ada), &json!({"state": "verified"}))
        .await
        .assert_error(400, "invalid_request");
    let carol = app.user("carol@example.com").await;
    api.post(&kyc(&carol), &json!({"state": "approved"}))
        .await
        .assert_error(404, "not_found");

    let changes = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::KycChanged),
            limit: 10,
            ..AuditFilter::default()
        })
        .await;
    let details: Vec<_> = changes.iter().map(|e| e.detail.clone()).collect();
    assert_eq!(
        details,
        vec![
            json!({"profile": "ada-personal", "kyc": "approved"}),
            json!({"profile": "ada-company", "kyc": "rejected"}),
        ]
    );
    assert!(changes.iter().all(|e| e.user_id == Some(ada.id.clone())));
}

/// A body that is JSON but not an object is refused, on every admin write and on orders
/// (found by schemathesis: `PATCH /admin/v1/users/{id}` with `[null, null]` answered 200, serde
/// reading the array as a struct with every field absent).
#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_refused() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let user = app.customer("ada@example.com").await;
    for body in [
        json!([null, null]),
        json!(["Ada"]),
        json!("name"),
        json!(7),
        json!(null),
    ] {
        let path = format!("/admin/v1/users/{}", user.id);
        let answer = api.patch(&path, &body).await;
        answer.assert_error(400, "invalid_request");
        assert!(
            answer
                .str("error_description")
                .contains("expected a JSON object"),
            "{}",
            answer.body
        );
        let answer = api.post("/admin/v1/clients", &body).await;
        answer.assert_error(400, "invalid_request");
    }
    let (client, secret) = crate::banking_kit::banking_client(&app, "Orders").await;
    let (token, _) =
        crate::banking_kit::access(&app, &client, &secret, "ada@example.com", "orders:write").await;
    let answer = crate::banking_kit::place(&app, &token, Some("k"), &json!([1, "eur"])).await;
    answer.assert_error(400, "invalid_request");
}

/// An empty patch is answered with the resource as it is: nothing is written, `updated_at`
/// keeps its value and no audit event says something changed (users and clients alike).
#[tokio::test]
async fn an_empty_patch_changes_nothing() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let user = app.customer("ada@example.com").await;
    let (client, _) = app.client(confidential("Shop")).await;
    let user_path = format!("/admin/v1/users/{}", user.id);
    let client_path = format!("/admin/v1/clients/{}", client.id);
    let user_before = api.get(&user_path).await;
    let client_before = api.get(&client_path).await;
    app.clock.advance(60);

    let answer = api.patch(&user_path, &json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, user_before.body);
    let answer = api.patch(&client_path, &json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, client_before.body);
    assert_eq!(api.get(&user_path).await.body, user_before.body);
    assert_eq!(api.get(&client_path).await.body, client_before.body);

    for kind in [AuditKind::UserUpdated, AuditKind::ClientUpdated] {
        let filter = AuditFilter {
            kind: Some(kind),
            ..AuditFilter::default()
        };
        assert!(app.audit_events(filter).await.is_empty(), "{kind:?}");
    }

    let stored = |app: &TestApp| {
        let (store, id) = (app.store.clone(), user.id.clone());
        async move { store.user(&id).await.unwrap().unwrap() }
    };
    assert_eq!(stored(&app).await.updated_at, user.updated_at);

    // A real change still moves `updated_at` and is audited.
    let answer = api.patch(&user_path, &json!({"name": "Ada L."})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(stored(&app).await.updated_at, user.updated_at.plus(60));
    let filter = AuditFilter {
        kind: Some(AuditKind::UserUpdated),
        ..AuditFilter::default()
    };
    assert_eq!(app.audit_events(filter).await.len(), 1);
}
