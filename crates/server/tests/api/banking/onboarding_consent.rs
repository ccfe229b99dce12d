//! The consent page binds a profile: which one the app will act for, the user's choice among
//! several, tampering with it, and its reuse by later requests. The choice reaches the consent
//! record (a partner's reach), the code, the grant and the tokens' `profile` claim.

use portcullis_core::banking::accounts;
use portcullis_core::banking::profile::{KycState, Profile, ProfileKind};
use portcullis_core::random::OsRandom;
use portcullis_core::store::{BankStore as _, ConsentStore as _, GrantStore as _};
use portcullis_core::time::Clock as _;
use portcullis_core::user::User;
use portcullis_proto::GrantId;
use portcullis_testkit::flow::{
    Pkce, chosen_profile, expect_error_page, location, param, postgres_app, request, with,
};
use portcullis_testkit::{TestApp, spawn_app};

use crate::banking_kit::{banking_client, profiles_of};
use crate::oauth_kit::{peek, redeem, refresh};

const EMAIL: &str = "alice@example.com";
const SCOPE: &str = "openid wallet:read orders:read";

/// A browser at the consent page of a request for `scope`; returns it, the request id and the
/// page.
async fn at_consent(
    app: &TestApp,
    client: &str,
    pkce: &Pkce,
    scope: &str,
) -> (reqwest::Client, String, String) {
    let browser = app.logged_in_browser(EMAIL).await;
    let page = app
        .authorize_and_follow(&browser, &request(client, pkce, scope))
        .await;
    assert_eq!(page.url().path(), "/consent");
    let request_id = param(page.url(), "request").unwrap();
    (browser, request_id, page.text().await.unwrap())
}

/// A profile that is not ready for anything (KYC absent).
async fn unready_profile(app: &TestApp, user: &User, name: &str) -> Profile {
    accounts::create_profile(
        &app.store,
        app.clock.as_ref(),
        &OsRandom,
        &user.id,
        ProfileKind::Personal,
        name,
    )
    .await
    .unwrap()
}

async fn consent_binds_the_only_ready_profile_everywhere(app: TestApp) {
    let (client, secret) = banking_client(&app, "Monerium Demo").await;
    let user = app.customer(EMAIL).await;
    let profile = profiles_of(&app, &user.id).await.remove(0);
    let pkce = Pkce::new();
    let (browser, request_id, html) = at_consent(&app, client.id.as_str(), &pkce, SCOPE).await;
    assert!(
        html.contains("will act for your personal profile <strong>Test User</strong>"),
        "{html}"
    );
    assert_eq!(chosen_profile(&html).as_deref(), Some(profile.id.as_str()));
    let response = app
        .consent(
            &browser,
            &request_id,
            "allow",
            &["openid", "wallet:read", "orders:read"],
        )
        .await;
    let code = param(&location(&app.base, &response), "code").unwrap();
    let tokens = redeem(&app, &client, Some(&secret), &code, &pkce.verifier).await;
    tokens.assert_tokens();
    let claims = peek(&tokens.str("access_token"));
    assert_eq!(claims["profile"], profile.id.as_str());
    let consent = app
        .store
        .consent(&user.id, &client.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(consent.profile_id.as_ref(), Some(&profile.id));
    let grant = app
        .store
        .grant(&GrantId::new(claims["gid"].as_str().unwrap()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grant.profile_id.as_ref(), Some(&profile.id));
    let granted = app.store.profiles_granted_to(&client.id).await.unwrap();
    assert_eq!(granted, vec![profile.clone()]);
    // A refreshed token acts for the same profile.
    let refreshed = refresh(
        &app,
        &client,
        Some(&secret),
        &tokens.str("refresh_token"),
        None,
    )
    .await;
    assert_eq!(
        peek(&refreshed.str("access_token"))["profile"],
        profile.id.as_str()
    );
}

#[tokio::test]
async fn consent_binds_the_only_ready_profile_everywhere_on_sqlite() {
    consent_binds_the_only_ready_profile_everywhere(spawn_app().await).await;
}

#[tokio::test]
async fn consent_binds_the_only_ready_profile_everywhere_on_postgres() {
    if let Some(app) = postgres_app().await {
        consent_binds_the_only_ready_profile_everywhere(app).await;
    }
}

#[tokio::test]
async fn with_several_ready_profiles_the_user_chooses_one() {
    let app = spawn_app().await;
    let (client, secret) = banking_client(&app, "Monerium Demo").await;
    let user = app.customer(EMAIL).await;
    let personal = profiles_of(&app, &user.id).await.remove(0);
    app.clock.advance(1);
    let company = app
        .ready_profile(&user, ProfileKind::Corporate, "Acme ehf.")
        .await;
    app.clock.advance(1);
    let draft = unready_profile(&app, &user, "Draft").await;
    let pkce = Pkce::new();
    let (browser, request_id, html) = at_consent(&app, client.id.as_str(), &pkce, SCOPE).await;
    assert!(html.contains("Choose the profile"), "{html}");
    for profile in [&personal, &company] {
        let radio = "type=\"radio\" id=\"profile-";
        let value = format!("name=\"profile\" value=\"{}\"", profile.id);
        assert!(html.contains(radio) && html.contains(&value), "{html}");
    }
    assert!(
        !html.contains(draft.id.as_str()),
        "a profile that is not ready is not offered"
    );
    assert_eq!(
        chosen_profile(&html).as_deref(),
        Some(personal.id.as_str()),
        "the oldest is preselected"
    );
    // Without a choice the answer is refused; the request stays pending.
    let response = app
        .consent_for(&browser, &request_id, "allow", &["wallet:read"], Some(""))
        .await;
    expect_error_page(response, 400).await;
    let response = app
        .consent_for(
            &browser,
            &request_id,
            "allow",
            &["wallet:read"],
            Some(company.id.as_str()),
        )
        .await;
    let code = param(&location(&app.base, &response), "code").unwrap();
    let tokens = redeem(&app, &client, Some(&secret), &code, &pkce.verifier).await;
    assert_eq!(
        peek(&tokens.str("access_token"))["profile"],
        company.id.as_str()
    );
    let granted = app.store.profiles_granted_to(&client.id).await.unwrap();
    assert_eq!(granted, vec![company.clone()]);
}

#[tokio::test]
async fn a_profile_id_that_is_not_the_users_or_not_ready_is_refused_as_tampering() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    let alice = app.customer(EMAIL).await;
    let bob = app.customer("bob@example.com").await;
    let bobs = profiles_of(&app, &bob.id).await.remove(0);
    app.clock.advance(1);
    let draft = unready_profile(&app, &alice, "Draft").await;
    let pkce = Pkce::new();
    let (browser, request_id, _) = at_consent(&app, client.id.as_str(), &pkce, SCOPE).await;
    for (profile, decision) in [
        (bobs.id.as_str(), "allow"),
        (bobs.id.as_str(), "deny"),
        ("no-such-profile", "allow"),
        (draft.id.as_str(), "allow"),
    ] {
        let response = app
            .consent_for(
                &browser,
                &request_id,
                decision,
                &["wallet:read"],
                Some(profile),
            )
            .await;
        let html = expect_error_page(response, 400).await;
        assert!(html.contains("did not match"), "{profile}: {html}");
    }
    assert!(
        app.store
            .consent(&alice.id, &client.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app.store
            .profiles_granted_to(&client.id)
            .await
            .unwrap()
            .is_empty()
    );
    // Refused without spending the request: the honest answer still works.
    let response = app
        .consent(&browser, &request_id, "allow", &["wallet:read"])
        .await;
    assert!(param(&location(&app.base, &response), "code").is_some());
}

#[tokio::test]
async fn a_later_request_covered_by_consent_reuses_its_profile() {
    let app = spawn_app().await;
    let (client, secret) = banking_client(&app, "Monerium Demo").await;
    let user = app.customer(EMAIL).await;
    app.clock.advance(1);
    let company = app
        .ready_profile(&user, ProfileKind::Corporate, "Acme ehf.")
        .await;
    let pkce = Pkce::new();
    let (browser, request_id, _) = at_consent(&app, client.id.as_str(), &pkce, SCOPE).await;
    app.consent_for(
        &browser,
        &request_id,
        "allow",
        &["openid", "wallet:read", "orders:read"],
        Some(company.id.as_str()),
    )
    .await;
    for scope in [SCOPE, "wallet:read"] {
        let response = app
            .authorize(&browser, &request(client.id.as_str(), &pkce, scope))
            .await;
        let code = param(&location(&app.base, &response), "code")
            .unwrap_or_else(|| panic!("no page for {scope}"));
        let tokens = redeem(&app, &client, Some(&secret), &code, &pkce.verifier).await;
        assert_eq!(
            peek(&tokens.str("access_token"))["profile"],
            company.id.as_str(),
            "{scope}"
        );
    }
    // Asked again, the page preselects the profile chosen before.
    let params = with(
        &request(client.id.as_str(), &pkce, SCOPE),
        "prompt",
        "consent",
    );
    let page = app.authorize_and_follow(&browser, &params).await;
    assert_eq!(page.url().path(), "/consent");
    let html = page.text().await.unwrap();
    assert_eq!(chosen_profile(&html).as_deref(), Some(company.id.as_str()));
}

#[tokio::test]
async fn a_bound_profile_that_is_no_longer_ready_is_not_reused() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    let user = app.customer(EMAIL).await;
    let first = profiles_of(&app, &user.id).await.remove(0);
    app.clock.advance(1);
    let second = app
        .ready_profile(&user, ProfileKind::Personal, "Second")
        .await;
    let pkce = Pkce::new();
    let (browser, request_id, _) = at_consent(&app, client.id.as_str(), &pkce, SCOPE).await;
    app.consent_for(
        &browser,
        &request_id,
        "allow",
        &["openid", "wallet:read", "orders:read"],
        Some(first.id.as_str()),
    )
    .await;
    app.store
        .set_kyc(&first.id, KycState::Rejected, app.clock.now())
        .await
        .unwrap();
    let page = app
        .authorize_and_follow(&browser, &request(client.id.as_str(), &pkce, SCOPE))
        .await;
    assert_eq!(page.url().path(), "/consent", "asked again");
    let html = page.text().await.unwrap();
    assert!(!html.contains(first.id.as_str()), "{html}");
    assert_eq!(chosen_profile(&html).as_deref(), Some(second.id.as_str()));
}

#[tokio::test]
async fn unticking_every_profile_scope_binds_no_profile() {
    let app = spawn_app().await;
    let (client, secret) = banking_client(&app, "Monerium Demo").await;
    let user = app.customer(EMAIL).await;
    let pkce = Pkce::new();
    let (browser, request_id, _) =
        at_consent(&app, client.id.as_str(), &pkce, "openid wallet:read").await;
    let response = app
        .consent(&browser, &request_id, "allow", &["openid"])
        .await;
    let code = param(&location(&app.base, &response), "code").unwrap();
    let tokens = redeem(&app, &client, Some(&secret), &code, &pkce.verifier).await;
    assert!(peek(&tokens.str("access_token")).get("profile").is_none());
    let consent = app
        .store
        .consent(&user.id, &client.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(consent.profile_id, None);
    assert!(
        app.store
            .profiles_granted_to(&client.id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_consent_page_lists_profiles_only_for_profile_scopes() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    app.customer(EMAIL).await;
    let pkce = Pkce::new();
    let (_, _, html) = at_consent(&app, client.id.as_str(), &pkce, "openid email").await;
    assert!(!html.contains("name=\"profile\""), "{html}");
}
