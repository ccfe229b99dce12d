//! What a pending authorization request needs next (`authorize::decide`): a login, consent,
//! or a code at once when an earlier consent covers it; and with `prompt=none`, an error at
//! the redirect URI instead of any page (OpenID Connect Core §3.1.2.6).

use portcullis_proto::{ClientId, UserId};

use super::bench::{ALICE, APP, Bench, NATIVE, VERIFIER, code_of, logged_in, query_of, scopes};
use crate::hash::SecretHash;
use crate::oauth::authorize::{
    AuthorizeError, PageError, Step, authenticated, next_step, pending, sealed,
};
use crate::store::{AuthRequestStore as _, ClientStore as _, CodeStore as _};
use crate::time::UnixTime;

async fn client(bench: &Bench, id: &str) -> crate::client::Client {
    bench
        .store
        .client(&ClientId::new(id))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn anonymous_visitor_is_sent_to_log_in_or_sign_up_and_nothing_is_written() {
    let bench = Bench::new().await;
    let app = client(&bench, APP).await;
    for (prompt, signup) in [("", false), ("create", true)] {
        let request = bench.request(APP, "openid", prompt);
        let step = next_step(&bench.ctx(), &request, &app, None).await.unwrap();
        assert_eq!(step, Step::Login { signup });
        assert!(!bench.store.auth_request_spent(&request.id).await.unwrap());
    }
}

#[tokio::test]
async fn prompt_none_without_a_login_is_login_required_at_the_redirect_uri() {
    let bench = Bench::new().await;
    let app = client(&bench, APP).await;
    let request = bench.request(APP, "openid", "none");

    let step = next_step(&bench.ctx(), &request, &app, None).await.unwrap();

    assert_eq!(query_of(&step, "error").as_deref(), Some("login_required"));
    assert_eq!(query_of(&step, "state").as_deref(), Some("st"));
    assert_eq!(
        query_of(&step, "iss").as_deref(),
        Some(super::bench::ISSUER)
    );
}

#[tokio::test]
async fn covering_consent_issues_a_code_at_once_and_spends_the_request() {
    let bench = Bench::new().await;
    let app = client(&bench, APP).await;
    bench.consent(APP, "openid profile").await;
    let (alice, session) = (bench.alice().await, SecretHash::of("session"));
    let request = bench.request(APP, "openid", "");

    let step = next_step(
        &bench.ctx(),
        &request,
        &app,
        Some(logged_in(&alice, bench.now(), &session)),
    )
    .await
    .unwrap();

    let code = code_of(&step);
    assert_eq!(query_of(&step, "state").as_deref(), Some("st"));
    let stored = bench
        .store
        .code(&SecretHash::of(&code))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.scope,
        scopes("openid"),
        "what was asked, not all that was approved"
    );
    assert_eq!(stored.user_id, UserId::new(ALICE));
    assert_eq!(stored.challenge, request.challenge);
    assert_eq!(
        stored.expires_at,
        bench.now().plus(crate::oauth::CODE_TTL_SECONDS)
    );
    assert!(stored.sid.is_some());
    assert!(bench.store.auth_request_spent(&request.id).await.unwrap());
    // The code the journey ends with is the one the token endpoint redeems.
    let issued = bench.redeem(&code, Some(VERIFIER)).await.unwrap();
    assert_eq!(issued.scope, scopes("openid"));
}

#[tokio::test]
async fn answered_request_cannot_be_answered_again() {
    let bench = Bench::new().await;
    let app = client(&bench, APP).await;
    bench.consent(APP, "openid").await;
    let (alice, session) = (bench.alice().await, SecretHash::of("session"));
    let request = bench.request(APP, "openid", "");
    let me = Some(logged_in(&alice, bench.now(), &session));
    assert!(
        pending(&bench.ctx(), &bench.clients, &request.handle)
            .await
            .is_ok()
    );
    next_step(&bench.ctx(), &request, &app, me).await.unwrap();

    let reopened = pending(&bench.ctx(), &bench.clients, &request.handle).await;
    assert!(
        matches!(
            reopened,
            Err(AuthorizeError::Page(PageError::UnknownRequest))
        ),
        "{reopened:?}"
    );
    let twice = next_step(&bench.ctx(), &request, &app, me).await;
    assert!(
        matches!(twice, Err(AuthorizeError::Page(PageError::UnknownRequest))),
        "{twice:?}"
    );
}

#[tokio::test]
async fn request_beyond_the_consent_or_with_prompt_consent_asks_again() {
    let bench = Bench::new().await;
    let app = client(&bench, APP).await;
    bench.consent(APP, "openid").await;
    let (alice, session) = (bench.alice().await, SecretHash::of("session"));
    let me = Some(logged_in(&alice, bench.now(), &session));
    for (scope, prompt) in [("openid email", ""), ("openid", "consent")] {
        let request = bench.request(APP, scope, prompt);
        let step = next_step(&bench.ctx(), &request, &app, me).await.unwrap();
        assert_eq!(step, Step::Consent, "{scope} {prompt}");
        assert!(!bench.store.auth_request_spent(&request.id).await.unwrap());
    }
}

#[tokio::test]
async fn prompt_none_without_consent_is_consent_required_and_spends_the_request() {
    let bench = Bench::new().await;
    let app = client(&bench, APP).await;
    let (alice, session) = (bench.alice().await, SecretHash::of("session"));
    let request = bench.request(APP, "openid", "none");

    let step = next_step(
        &bench.ctx(),
        &request,
        &app,
        Some(logged_in(&alice, bench.now(), &session)),
    )
    .await
    .unwrap();

    assert_eq!(
        query_of(&step, "error").as_deref(),
        Some("consent_required")
    );
    assert_eq!(query_of(&step, "code"), None);
    assert!(bench.store.auth_request_spent(&request.id).await.unwrap());
}

#[tokio::test]
async fn public_client_on_loopback_is_asked_every_time() {
    // Any app can listen on loopback: a consent given to the native app is not applied to a
    // request that only claims to come from it (RFC 8252 §8.6).
    let bench = Bench::new().await;
    let native = client(&bench, NATIVE).await;
    bench.consent(NATIVE, "openid").await;
    let (alice, session) = (bench.alice().await, SecretHash::of("session"));
    let request = bench.request(NATIVE, "openid", "");

    let step = next_step(
        &bench.ctx(),
        &request,
        &native,
        Some(logged_in(&alice, bench.now(), &session)),
    )
    .await
    .unwrap();

    assert_eq!(step, Step::Consent);
}

#[tokio::test]
async fn login_older_than_max_age_must_be_made_again_for_this_request() {
    let bench = Bench::new().await;
    let app = client(&bench, APP).await;
    bench.consent(APP, "openid").await;
    let (alice, session) = (bench.alice().await, SecretHash::of("session"));
    let request = crate::store::AuthRequestRecord {
        max_age: Some(60),
        ..bench.request(APP, "openid", "")
    };
    let request = sealed::seal(&bench.ctx(), request).unwrap();
    let old_login = logged_in(&alice, UnixTime(bench.now().0 - 61), &session);

    let step = next_step(&bench.ctx(), &request, &app, Some(old_login))
        .await
        .unwrap();
    assert_eq!(step, Step::Login { signup: false });

    // The login made for the request answers it, in that session only.
    let handle = authenticated(&bench.ctx(), &request.handle, &session).unwrap();
    let (_, answered) = pending(&bench.ctx(), &bench.clients, &handle)
        .await
        .unwrap();
    let elsewhere = SecretHash::of("another session");
    let other = logged_in(&alice, UnixTime(bench.now().0 - 61), &elsewhere);
    let step = next_step(&bench.ctx(), &answered, &app, Some(other))
        .await
        .unwrap();
    assert_eq!(step, Step::Login { signup: false });
    let step = next_step(&bench.ctx(), &answered, &app, Some(old_login))
        .await
        .unwrap();
    assert!(query_of(&step, "code").is_some(), "{step:?}");
}

#[tokio::test]
async fn disabled_user_is_sent_to_log_in() {
    let bench = Bench::new().await;
    let app = client(&bench, APP).await;
    bench.consent(APP, "openid").await;
    let alice = crate::user::User {
        disabled: true,
        ..bench.alice().await
    };
    let session = SecretHash::of("session");
    let request = bench.request(APP, "openid", "");

    let step = next_step(
        &bench.ctx(),
        &request,
        &app,
        Some(logged_in(&alice, bench.now(), &session)),
    )
    .await
    .unwrap();

    assert_eq!(step, Step::Login { signup: false });
    assert!(!bench.store.auth_request_spent(&request.id).await.unwrap());
}
