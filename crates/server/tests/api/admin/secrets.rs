//! The audit trail records who did what, from where, and how it went, and never a secret: no
//! client secret, password, code, PKCE verifier, access, refresh or ID token, or session cookie
//! appears in the events or anywhere in the rows of the `audit_events` table.

use std::collections::BTreeSet;

use portcullis_core::audit::{AuditEvent, AuditFilter, AuditKind, Outcome};
use portcullis_proto::{ClientId, Secret};
use portcullis_store::Dialect;
use portcullis_testkit::flow::{
    PASSWORD, Pkce, REDIRECT_URI, browser, browser_with_jar, cookie, postgres_app,
};
use portcullis_testkit::{TestApp, spawn_app};
use serde_json::json;

use crate::admin_kit::{AdminApi, stored_client};
use crate::oauth_kit::{authorize_params, client_credentials, redeem, refresh, revoke};

/// Every value that must never be recorded, with what it is.
#[derive(Debug, Default)]
struct Secrets(Vec<(&'static str, String)>);

impl Secrets {
    fn add(&mut self, what: &'static str, value: &str) {
        assert!(
            value.len() >= 10,
            "{what} is too short to search for: {value:?}"
        );
        self.0.push((what, value.to_owned()));
        // A JWT's signature alone is as secret as the token.
        if value.matches('.').count() == 2 {
            let signature = value.rsplit('.').next().unwrap_or_default();
            self.0.push((what, signature.to_owned()));
        }
    }

    #[track_caller]
    fn assert_absent(&self, place: &str, text: &str) {
        for (what, value) in &self.0 {
            assert!(
                !text.contains(value.as_str()),
                "the {what} is in the {place}"
            );
        }
    }
}

/// Every row of `audit_events`, every column as text, read with SQL of its own.
async fn raw_audit_table(app: &TestApp) -> String {
    const SQL: &str = "SELECT CAST(seq AS TEXT), CAST(at AS TEXT), kind, actor, client_id, \
        user_id, ip, outcome, detail FROM audit_events ORDER BY seq";
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
    );
    let url = app.database_url();
    let rows: Vec<Row> = match app.store.dialect() {
        Dialect::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let rows = sqlx::query_as(SQL).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
        Dialect::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let rows = sqlx::query_as(SQL).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
    };
    assert!(!rows.is_empty());
    rows.iter()
        .map(|row| format!("{row:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[track_caller]
fn find(events: &[AuditEvent], kind: AuditKind, outcome: Outcome) -> &AuditEvent {
    events
        .iter()
        .find(|e| e.kind == kind && e.outcome == outcome)
        .unwrap_or_else(|| panic!("no {kind:?} {outcome:?} event in {events:#?}"))
}

async fn no_secret_or_token_value_is_ever_recorded(app: TestApp) {
    let mut secrets = Secrets::default();
    let api = AdminApi::new(&app).await;
    secrets.add("admin client secret", api.secret.expose());
    secrets.add("admin access token", &api.token);

    // A client registered, and its secret rotated with grace, through the admin API.
    let answer = api
        .post(
            "/admin/v1/clients",
            &json!({
                "client_id": "wallet",
                "name": "Wallet app",
                "redirect_uris": [REDIRECT_URI],
                "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
                "scope": "openid email wallet:read",
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    secrets.add("first client secret", &answer.str("client_secret"));
    let answer = api
        .post(
            "/admin/v1/clients/wallet/rotate-secret",
            &json!({"grace_seconds": 600}),
        )
        .await;
    let secret = Secret::new(answer.str("client_secret"));
    secrets.add("rotated client secret", secret.expose());
    let wallet = stored_client(&app, "wallet").await;

    // A user created through the admin API, and failed logins with a known wrong password.
    let answer = api
        .post(
            "/admin/v1/users",
            &json!({"email": "ada@example.com", "name": "Ada", "password": PASSWORD}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let ada = answer.str("id");
    secrets.add("password", PASSWORD);
    let wrong = "Tr0ub4dor&3-wrong-password";
    secrets.add("wrong password", wrong);
    for email in ["ada@example.com", "nobody@example.com"] {
        let response = app.login(&browser(), email, wrong, None).await;
        assert_eq!(response.status(), 303);
    }

    // The code flow with PKCE, the code's redemption, a refresh and revocations.
    let (jar_browser, jar) = browser_with_jar();
    let pkce = Pkce::new();
    secrets.add("PKCE verifier", &pkce.verifier);
    let callback = app
        .code_flow_in(
            &jar_browser,
            "ada@example.com",
            &authorize_params(&wallet, "openid email", &pkce),
            None,
        )
        .await;
    let session = cookie(&jar, &app.base, "portcullis").expect("session cookie");
    secrets.add("session cookie", &session);
    let code = callback.code();
    secrets.add("authorization code", &code);
    let tokens = redeem(&app, &wallet, Some(&secret), &code, &pkce.verifier).await;
    tokens.assert_tokens();
    secrets.add("user access token", &tokens.str("access_token"));
    secrets.add("refresh token", &tokens.str("refresh_token"));
    secrets.add("ID token", &tokens.str("id_token"));
    let refreshed = refresh(
        &app,
        &wallet,
        Some(&secret),
        &tokens.str("refresh_token"),
        None,
    )
    .await;
    refreshed.assert_tokens();
    secrets.add("refreshed access token", &refreshed.str("access_token"));
    secrets.add("rotated refresh token", &refreshed.str("refresh_token"));
    let own = client_credentials(&app, &wallet, &secret, Some("wallet:read")).await;
    secrets.add("client access token", &own.str("access_token"));
    assert_eq!(
        revoke(&app, &wallet, Some(&secret), &own.str("access_token"))
            .await
            .status,
        200
    );
    let revoked = revoke(
        &app,
        &wallet,
        Some(&secret),
        &refreshed.str("refresh_token"),
    )
    .await;
    assert_eq!(revoked.status, 200);

    // Nothing secret in the events, nor in any column of any row of the table.
    let events = app
        .audit_events(AuditFilter {
            limit: 500,
            ..AuditFilter::default()
        })
        .await;
    let trail = serde_json::to_string(&events).unwrap();
    secrets.assert_absent("audit trail", &trail);
    secrets.assert_absent("audit_events table", &raw_audit_table(&app).await);

    // What is recorded: the kinds, with actor, client, user, IP and outcome.
    let recorded: BTreeSet<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "client_created",
        "client_secret_rotated",
        "user_created",
        "login_failed",
        "login_succeeded",
        "consent_given",
        "tokens_issued",
        "token_revoked",
    ] {
        assert!(recorded.contains(kind), "no {kind} in {recorded:?}");
    }
    assert!(
        events.iter().all(|e| e.ip.as_deref() == Some("127.0.0.1")),
        "every event here came from a request: {events:#?}"
    );
    let wallet_id = Some(ClientId::new("wallet"));
    let ada_id = Some(portcullis_proto::UserId::new(ada.clone()));
    for kind in [
        AuditKind::ClientCreated,
        AuditKind::ClientSecretRotated,
        AuditKind::UserCreated,
    ] {
        assert_eq!(find(&events, kind, Outcome::Success).actor, api.actor());
    }
    assert_eq!(
        find(&events, AuditKind::ClientCreated, Outcome::Success).client_id,
        wallet_id
    );
    assert_eq!(
        find(&events, AuditKind::UserCreated, Outcome::Success).user_id,
        ada_id
    );
    let failures: Vec<_> = events
        .iter()
        .filter(|e| e.kind == AuditKind::LoginFailed)
        .collect();
    assert_eq!(failures.len(), 2);
    assert!(
        failures
            .iter()
            .all(|e| e.outcome == Outcome::Failure && e.actor == "anonymous")
    );
    assert_eq!(failures[0].user_id, ada_id, "a known account is named");
    assert_eq!(failures[1].user_id, None);
    let login = find(&events, AuditKind::LoginSucceeded, Outcome::Success);
    assert_eq!(
        (login.actor.clone(), login.user_id.clone()),
        (format!("user:{ada}"), ada_id.clone())
    );
    let consent = find(&events, AuditKind::ConsentGiven, Outcome::Success);
    assert_eq!(
        (&consent.client_id, &consent.user_id),
        (&wallet_id, &ada_id)
    );
    let issued: Vec<_> = events
        .iter()
        .filter(|e| e.kind == AuditKind::TokensIssued && e.client_id == wallet_id)
        .collect();
    let grants: Vec<&str> = issued
        .iter()
        .map(|e| e.detail["grant_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        grants,
        ["authorization_code", "refresh_token", "client_credentials"]
    );
    assert_eq!(issued[0].user_id, ada_id);
    assert_eq!(issued[0].actor, "client:wallet");
    assert_eq!(issued[2].user_id, None);
    let revocations: Vec<_> = events
        .iter()
        .filter(|e| e.kind == AuditKind::TokenRevoked)
        .collect();
    let what: Vec<&str> = revocations
        .iter()
        .map(|e| e.detail["token"].as_str().unwrap())
        .collect();
    assert_eq!(what, ["access_token", "refresh_token"]);
    assert!(revocations.iter().all(|e| e.client_id == wallet_id));
}

#[tokio::test]
async fn no_secret_or_token_value_is_ever_recorded_on_sqlite() {
    no_secret_or_token_value_is_ever_recorded(spawn_app().await).await;
}

#[tokio::test]
async fn no_secret_or_token_value_is_ever_recorded_on_postgres() {
    // Announced and skipped when PORTCULLIS_TEST_DATABASE_URL is not set.
    let Some(app) = postgres_app().await else {
        return;
    };
    no_secret_or_token_value_is_ever_recorded(app).await;
}
