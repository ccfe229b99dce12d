//! The journey's entry point (`oauth::journey::advance`): each event on a pending request,
//! what it shows or where it sends the browser, and that a finished request is spent.

use super::bench::{ALICE, APP, Bench, code_of, logged_in, query_of};
use crate::hash::SecretHash;
use crate::oauth::authorize::{AuthorizeError, PageError, Step};
use crate::oauth::consent::ConsentAnswer;
use crate::oauth::journey::{Event, Outcome, advance};
use crate::store::ConsentStore as _;
use portcullis_proto::{ClientId, UserId};

fn go(outcome: &Outcome) -> &Step {
    match outcome {
        Outcome::Go(step) => step,
        other => panic!("expected a step, got {other:?}"),
    }
}

#[tokio::test]
async fn without_a_login_every_page_event_goes_to_the_login_or_sign_up_page() {
    let bench = Bench::new().await;
    for (prompt, signup) in [("", false), ("create", true)] {
        let request = bench.request(APP, "openid", prompt);
        for event in [Event::Resume, Event::OpenConsent] {
            let journey = advance(&bench.ctx(), &bench.clients, &request.handle, None, event)
                .await
                .unwrap();
            assert_eq!(go(&journey.outcome), &Step::Login { signup }, "{prompt:?}");
            assert_eq!(journey.client.id.as_str(), APP);
        }
    }
}

#[tokio::test]
async fn consent_is_shown_with_its_model_then_answered_with_a_code_once() {
    let bench = Bench::new().await;
    let alice = bench.alice().await;
    let session = SecretHash::of("session");
    let me = Some(logged_in(&alice, bench.now(), &session));
    let request = bench.request(APP, "openid profile:read", "");
    let shown = advance(
        &bench.ctx(),
        &bench.clients,
        &request.handle,
        me,
        Event::OpenConsent,
    )
    .await
    .unwrap();
    let Outcome::Consent(model) = &shown.outcome else {
        panic!("expected the consent page: {:?}", shown.outcome);
    };
    let names: Vec<&str> = model.scopes.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["openid", "profile:read"]);
    let registry = &bench.settings.scopes;
    assert_eq!(
        model.scopes[1].description,
        registry.describe("profile:read").unwrap_or("profile:read")
    );
    assert!(
        model.profiles.is_empty(),
        "banking is off: no profile to choose"
    );

    let answer = ConsentAnswer {
        allow: true,
        scopes: vec!["openid".into(), "profile:read".into()],
        client_id: APP.into(),
        profile: None,
    };
    let answered = advance(
        &bench.ctx(),
        &bench.clients,
        &request.handle,
        me,
        Event::ConsentAnswered(answer.clone()),
    )
    .await
    .unwrap();
    let step = go(&answered.outcome);
    assert!(!code_of(step).is_empty());
    assert_eq!(query_of(step, "state").as_deref(), Some("st"));
    let consent = bench
        .store
        .consent(&UserId::new(ALICE), &ClientId::new(APP))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(consent.scope.to_string(), "openid profile:read");

    // The request is spent: a second answer finds nothing to answer.
    let again = advance(
        &bench.ctx(),
        &bench.clients,
        &request.handle,
        me,
        Event::ConsentAnswered(answer),
    )
    .await;
    assert!(
        matches!(again, Err(AuthorizeError::Page(PageError::UnknownRequest))),
        "{again:?}"
    );
}

#[tokio::test]
async fn cancelling_answers_access_denied_and_spends_the_request() {
    let bench = Bench::new().await;
    let request = bench.request(APP, "openid", "");
    let cancelled = advance(
        &bench.ctx(),
        &bench.clients,
        &request.handle,
        None,
        Event::Cancel,
    )
    .await
    .unwrap();
    let step = go(&cancelled.outcome);
    assert_eq!(query_of(step, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_of(step, "state").as_deref(), Some("st"));
    let again = advance(
        &bench.ctx(),
        &bench.clients,
        &request.handle,
        None,
        Event::Resume,
    )
    .await;
    assert!(matches!(
        again,
        Err(AuthorizeError::Page(PageError::UnknownRequest))
    ));
}

#[tokio::test]
async fn an_onboarding_page_out_of_turn_sends_the_browser_to_the_step_it_needs() {
    let bench = Bench::new().await;
    let alice = bench.alice().await;
    let session = SecretHash::of("session");
    let me = Some(logged_in(&alice, bench.now(), &session));
    let request = bench.request(APP, "openid", "");
    // Banking is off: no onboarding step is due, so the profile page leads to consent.
    let journey = advance(
        &bench.ctx(),
        &bench.clients,
        &request.handle,
        me,
        Event::AtOnboarding(crate::banking::onboarding::Step::Profile),
    )
    .await
    .unwrap();
    assert_eq!(go(&journey.outcome), &Step::Consent);
}

#[tokio::test]
async fn an_altered_handle_is_an_unknown_request() {
    let bench = Bench::new().await;
    let mut handle = bench.request(APP, "openid", "").handle;
    handle.push('x');
    let journey = advance(&bench.ctx(), &bench.clients, &handle, None, Event::Resume).await;
    assert!(matches!(
        journey,
        Err(AuthorizeError::Page(PageError::UnknownRequest))
    ));
}
