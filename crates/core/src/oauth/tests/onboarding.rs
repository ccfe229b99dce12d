//! The authorization request's decisions when banking is on: a scope about money needs a
//! profile with approved KYC (and, for funds, a wallet with an IBAN) before consent, and the
//! grant acts for the profile the consent chose.

use portcullis_proto::{ClientId, ProfileId, UserId};

use super::bench::{ALICE, APP, Bench, code_of, logged_in, query_of};
use crate::banking::onboarding::Step as Onboarding;
use crate::banking::profile::{KycState, Profile, ProfileKind};
use crate::hash::SecretHash;
use crate::oauth::authorize::{Step, next_step};
use crate::oauth::consent::{ConsentAnswer, answer};
use crate::store::{BankStore as _, ClientStore as _, CodeStore as _, ConsentStore as _};
use crate::time::UnixTime;

async fn banking_bench() -> Bench {
    let mut bench = Bench::new().await;
    bench.banking.enabled = true;
    bench
}

fn profile(id: &str, kyc: KycState) -> Profile {
    Profile {
        id: ProfileId::new(id),
        user_id: UserId::new(ALICE),
        kind: ProfileKind::Personal,
        name: "Alice".into(),
        kyc,
        created_at: UnixTime(super::bench::START - 10),
        updated_at: UnixTime(super::bench::START - 10),
    }
}

/// The next step of a fresh request of [`APP`] for `scope` with `prompt`, for [`ALICE`].
async fn step_for(bench: &Bench, scope: &str, prompt: &str) -> Step {
    let app = bench
        .store
        .client(&ClientId::new(APP))
        .await
        .unwrap()
        .unwrap();
    let (alice, session) = (bench.alice().await, SecretHash::of("session"));
    let request = bench.request(APP, scope, prompt);
    next_step(
        &bench.ctx(),
        &request,
        &app,
        Some(logged_in(&alice, bench.now(), &session)),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn profile_scope_needs_a_profile_then_approved_kyc_before_consent() {
    let bench = banking_bench().await;
    assert_eq!(
        step_for(&bench, "profile:read", "").await,
        Step::Onboarding(Onboarding::Profile)
    );
    bench
        .store
        .insert_profile(&profile("p1", KycState::Pending))
        .await
        .unwrap();
    assert_eq!(
        step_for(&bench, "profile:read", "").await,
        Step::Onboarding(Onboarding::Kyc)
    );
    let id = ProfileId::new("p1");
    assert!(
        bench
            .store
            .set_kyc(&id, KycState::Approved, bench.now())
            .await
            .unwrap()
    );
    assert_eq!(step_for(&bench, "profile:read", "").await, Step::Consent);
    // Funds need a wallet as well.
    assert_eq!(
        step_for(&bench, "wallet:read", "").await,
        Step::Onboarding(Onboarding::Wallet)
    );
    // Without banking, the same scope needs nothing.
    let mut off = bench;
    off.banking.enabled = false;
    assert_eq!(step_for(&off, "profile:read", "").await, Step::Consent);
}

#[tokio::test]
async fn consent_binds_the_grant_to_the_profile_and_later_requests_follow_it() {
    let bench = banking_bench().await;
    bench
        .store
        .insert_profile(&profile("p1", KycState::Approved))
        .await
        .unwrap();
    let app = bench
        .store
        .client(&ClientId::new(APP))
        .await
        .unwrap()
        .unwrap();
    let (alice, session) = (bench.alice().await, SecretHash::of("session"));
    let request = bench.request(APP, "openid profile:read", "");
    let form = ConsentAnswer {
        allow: true,
        scopes: vec!["openid".into(), "profile:read".into()],
        client_id: APP.into(),
        profile: None,
    };

    let step = answer(
        &bench.ctx(),
        &request,
        &app,
        logged_in(&alice, bench.now(), &session),
        form,
    )
    .await
    .unwrap();

    let code = bench
        .store
        .code(&SecretHash::of(&code_of(&step)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        code.profile_id,
        Some(ProfileId::new("p1")),
        "the only ready profile"
    );
    let consent = bench
        .store
        .consent(&alice.id, &app.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(consent.profile_id, Some(ProfileId::new("p1")));
    // A later request the consent covers gets a code for the same profile, asking nothing.
    let again = step_for(&bench, "profile:read", "").await;
    let code = bench
        .store
        .code(&SecretHash::of(&code_of(&again)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.profile_id, Some(ProfileId::new("p1")));
    // Once the profile no longer qualifies, the user is sent back to onboarding.
    let id = ProfileId::new("p1");
    bench
        .store
        .set_kyc(&id, KycState::Rejected, bench.now())
        .await
        .unwrap();
    assert_eq!(
        step_for(&bench, "profile:read", "").await,
        Step::Onboarding(Onboarding::Kyc)
    );
}

#[tokio::test]
async fn prompt_none_tells_only_an_approved_client_that_onboarding_is_missing() {
    let bench = banking_bench().await;
    // A client the user never approved learns only that consent is required.
    let unapproved = step_for(&bench, "profile:read", "none").await;
    assert_eq!(
        query_of(&unapproved, "error").as_deref(),
        Some("consent_required")
    );

    bench.consent(APP, "profile:read").await;
    let approved = step_for(&bench, "profile:read", "none").await;
    assert_eq!(
        query_of(&approved, "error").as_deref(),
        Some("interaction_required")
    );
    assert!(
        bench
            .store
            .consent(&UserId::new(ALICE), &ClientId::new(APP))
            .await
            .unwrap()
            .is_some(),
        "an error changes no consent"
    );
}
