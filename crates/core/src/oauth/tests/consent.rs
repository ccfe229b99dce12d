//! The user's answer on the consent page (`oauth::consent::answer`): full, partial, denied,
//! remembered for later requests, and forgotten when the app is revoked.

use portcullis_proto::{ClientId, UserId};

use super::bench::{ALICE, APP, Bench, NATIVE, VERIFIER, code_of, logged_in, query_of, scopes};
use crate::audit::{AuditKind, Outcome};
use crate::hash::SecretHash;
use crate::oauth::authorize::{AuthorizeError, PageError, Step, next_step};
use crate::oauth::consent::{ConsentAnswer, answer};
use crate::store::{
    AuthRequestRecord, AuthRequestStore as _, ClientStore as _, CodeStore as _, ConsentStore as _,
    Ending, GrantStore as _, RefreshTokenStore as _,
};

fn allow(scopes: &[&str]) -> ConsentAnswer {
    ConsentAnswer {
        allow: true,
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        client_id: APP.into(),
        profile: None,
    }
}

/// [`ALICE`] answers `request` with `form`, logged in now.
async fn answer_as_alice(
    bench: &Bench,
    request: &AuthRequestRecord,
    form: ConsentAnswer,
) -> Result<Step, AuthorizeError> {
    let app = bench
        .store
        .client(&ClientId::new(APP))
        .await
        .unwrap()
        .unwrap();
    let (alice, session) = (bench.alice().await, SecretHash::of("session"));
    answer(
        &bench.ctx(),
        request,
        &app,
        logged_in(&alice, bench.now(), &session),
        form,
    )
    .await
}

async fn alices_consent(bench: &Bench) -> Option<crate::store::ConsentRecord> {
    bench
        .store
        .consent(&UserId::new(ALICE), &ClientId::new(APP))
        .await
        .unwrap()
}

#[tokio::test]
async fn full_consent_is_remembered_and_issues_a_code_for_every_scope() {
    let bench = Bench::new().await;
    let request = bench.request(APP, "openid profile", "");

    let step = answer_as_alice(&bench, &request, allow(&["openid", "profile"]))
        .await
        .unwrap();

    let code = bench
        .store
        .code(&SecretHash::of(&code_of(&step)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.scope, scopes("openid profile"));
    let consent = alices_consent(&bench).await.unwrap();
    assert_eq!(consent.scope, scopes("openid profile"));
    assert_eq!(
        (consent.created_at, consent.updated_at),
        (bench.now(), bench.now())
    );
    assert_eq!(bench.audited(), [AuditKind::ConsentGiven]);
    assert!(bench.store.auth_request_spent(&request.id).await.unwrap());
}

#[tokio::test]
async fn partial_consent_grants_only_the_ticked_scopes() {
    let bench = Bench::new().await;
    let request = bench.request(APP, "openid profile email", "");

    let step = answer_as_alice(&bench, &request, allow(&["openid", "email"]))
        .await
        .unwrap();

    let code = code_of(&step);
    let issued = bench.redeem(&code, Some(VERIFIER)).await.unwrap();
    assert_eq!(issued.scope, scopes("openid email"));
    assert_eq!(
        alices_consent(&bench).await.unwrap().scope,
        scopes("openid email")
    );
    let events = bench.audit.events();
    assert_eq!(events[0].kind, AuditKind::ConsentPartial);
    assert_eq!(events[0].detail["granted"], "email openid");
}

#[tokio::test]
async fn denial_sends_access_denied_and_remembers_nothing() {
    let bench = Bench::new().await;
    let request = bench.request(APP, "openid profile", "");
    let deny = ConsentAnswer {
        allow: false,
        ..allow(&["openid", "profile"])
    };

    let step = answer_as_alice(&bench, &request, deny).await.unwrap();

    assert_eq!(query_of(&step, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_of(&step, "code"), None);
    assert_eq!(alices_consent(&bench).await, None);
    assert!(bench.store.auth_request_spent(&request.id).await.unwrap());
    let events = bench.audit.events();
    assert_eq!(
        (events[0].kind, events[0].outcome),
        (AuditKind::ConsentDenied, Outcome::Failure)
    );
}

#[tokio::test]
async fn allow_with_nothing_ticked_is_a_denial() {
    let bench = Bench::new().await;
    let request = bench.request(APP, "openid profile", "");

    let step = answer_as_alice(&bench, &request, allow(&[])).await.unwrap();

    assert_eq!(query_of(&step, "error").as_deref(), Some("access_denied"));
    assert_eq!(alices_consent(&bench).await, None);
    assert_eq!(bench.audited(), [AuditKind::ConsentDenied]);
}

#[tokio::test]
async fn answer_naming_an_unrequested_scope_or_another_client_is_tampering() {
    let bench = Bench::new().await;
    let request = bench.request(APP, "openid", "");
    let other_client = ConsentAnswer {
        client_id: NATIVE.into(),
        ..allow(&["openid"])
    };
    for form in [allow(&["openid", "email"]), other_client] {
        let tampered = answer_as_alice(&bench, &request, form).await;
        assert!(
            matches!(tampered, Err(AuthorizeError::Page(PageError::Tampered))),
            "{tampered:?}"
        );
    }
    assert_eq!(alices_consent(&bench).await, None);
    assert!(!bench.store.auth_request_spent(&request.id).await.unwrap());
    assert_eq!(bench.audited(), []);
}

#[tokio::test]
async fn later_answer_replaces_only_the_scopes_its_request_asked_about() {
    let bench = Bench::new().await;
    bench.consent(APP, "openid email").await;
    let first = alices_consent(&bench).await.unwrap();
    bench.clock.advance(100);
    // Asked about profile and email; approved profile only: email is withdrawn, openid stays.
    let request = bench.request(APP, "profile email", "");

    answer_as_alice(&bench, &request, allow(&["profile"]))
        .await
        .unwrap();

    let consent = alices_consent(&bench).await.unwrap();
    assert_eq!(consent.scope, scopes("openid profile"));
    assert_eq!(consent.created_at, first.created_at);
    assert_eq!(consent.updated_at, bench.now());
}

#[tokio::test]
async fn consent_page_is_no_way_around_a_required_login() {
    let bench = Bench::new().await;
    let request = bench.request(APP, "openid", "login");

    let step = answer_as_alice(&bench, &request, allow(&["openid"]))
        .await
        .unwrap();

    assert_eq!(step, Step::Login { signup: false });
    assert_eq!(alices_consent(&bench).await, None);
    assert!(!bench.store.auth_request_spent(&request.id).await.unwrap());
}

#[tokio::test]
async fn revoked_consent_is_asked_again_and_ends_its_grants() {
    let bench = Bench::new().await;
    let issued = bench.issued("openid").await;
    let app = bench
        .store
        .client(&ClientId::new(APP))
        .await
        .unwrap()
        .unwrap();
    let (alice, session) = (bench.alice().await, SecretHash::of("session"));
    let me = Some(logged_in(&alice, bench.now(), &session));
    let covered = bench.request(APP, "openid", "");
    assert!(
        query_of(
            &next_step(&bench.ctx(), &covered, &app, me).await.unwrap(),
            "code"
        )
        .is_some()
    );

    let ending = Ending::App {
        user: alice.id.clone(),
        client: app.id.clone(),
    };
    let ended = bench.store.end_access(&ending, bench.now()).await.unwrap();

    assert_eq!((ended.consents, ended.grants), (1, 1));
    assert_eq!(ended.codes, 1, "the code just issued, never redeemed");
    let request = bench.request(APP, "openid", "");
    assert_eq!(
        next_step(&bench.ctx(), &request, &app, me).await.unwrap(),
        Step::Consent
    );
    let refreshed = bench
        .refresh(issued.refresh_token.as_ref().unwrap(), None)
        .await;
    assert!(refreshed.is_err());
    let claims = crate::oauth::access::check(&bench.ctx(), issued.access_token.expose()).await;
    assert!(
        claims.is_err(),
        "the grant's access token is no longer active"
    );
    let hash = SecretHash::of(issued.refresh_token.as_ref().unwrap().expose());
    let token = bench.store.refresh_token(&hash).await.unwrap().unwrap();
    let grant = bench.store.grant(&token.grant_id).await.unwrap().unwrap();
    assert_eq!(grant.revoked_at, Some(bench.now()));
}
