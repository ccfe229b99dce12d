//! `GET/POST /onboarding/kyc`: the sandbox's short know-your-customer form. With `kyc = auto`
//! a well-formed submission is approved at once; with `kyc = manual` it stays pending until an
//! operator decides, and the page says so (the request waits; the user may leave and come back).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::audit::AuditKind;
use portcullis_core::banking::accounts::{self, BankError};
use portcullis_core::banking::kyc::KycSubmission;
use portcullis_core::banking::onboarding::Step;
use portcullis_core::banking::profile::{Profile, ProfileKind};
use serde::Deserialize;

use super::{
    Arrival, Here, OnboardingQuery, StepItem, arrive, arrive_with_form, resume_url, sentence,
};
use crate::pages::session::{Browser, ClientIp};
use crate::pages::{PageFailure, internal, render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "onboarding_kyc.html")]
struct KycPage<'a> {
    csrf: &'a str,
    request: &'a str,
    app: &'a str,
    steps: &'a [StepItem],
    error: Option<String>,
    profile_name: &'a str,
    corporate: bool,
    /// `absent` (the form), `pending` or `rejected`.
    kyc: &'static str,
    auto_approve: bool,
    resume: String,
    form: &'a KycSubmission,
}

fn page(
    state: &AppState,
    here: &Here,
    profile: &Profile,
    status: StatusCode,
    error: Option<String>,
    form: &KycSubmission,
) -> Response {
    render(
        status,
        &KycPage {
            csrf: &here.csrf,
            request: &here.request.handle,
            app: &here.client.name,
            steps: &here.steps,
            error,
            profile_name: &profile.name,
            corporate: profile.kind == ProfileKind::Corporate,
            kyc: profile.kyc.as_str(),
            auto_approve: state.services.banking.kyc_auto_approve,
            resume: resume_url(&here.request.handle),
            form,
        },
    )
}

/// The KYC form, or the state of a submission already made.
pub async fn show(
    State(state): State<AppState>,
    browser: Browser,
    Query(query): Query<OnboardingQuery>,
) -> Result<Response, PageFailure> {
    let here = match arrive(&state, &browser, &query.request, Step::Kyc).await? {
        Arrival::Elsewhere(response) => return Ok(response),
        Arrival::Here(here) => here,
    };
    let Some(profile) = here.profile.as_ref() else {
        return Ok(see_other(&resume_url(&here.request.handle)));
    };
    let form = KycSubmission {
        legal_name: profile.name.clone(),
        ..KycSubmission::default()
    };
    Ok(page(&state, &here, profile, StatusCode::OK, None, &form))
}

/// The KYC form's fields.
#[derive(Debug, Deserialize)]
pub struct KycForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request: String,
    #[serde(default)]
    legal_name: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    registration_number: String,
}

/// Submits the KYC form and continues the request (to the next step when approved, back to
/// this page showing "pending" otherwise).
pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    ClientIp(ip): ClientIp,
    Form(form): Form<KycForm>,
) -> Result<Response, PageFailure> {
    let here =
        match arrive_with_form(&state, &browser, &form.csrf, &form.request, Step::Kyc).await? {
            Arrival::Elsewhere(response) => return Ok(response),
            Arrival::Here(here) => here,
        };
    let Some(profile) = here.profile.as_ref() else {
        return Ok(see_other(&resume_url(&here.request.handle)));
    };
    let submission = KycSubmission {
        legal_name: form.legal_name,
        country: form.country,
        birth_date: form.birth_date,
        registration_number: form.registration_number,
    };
    let services = &state.services;
    let submitted = accounts::submit_kyc_form(
        services.store.as_ref(),
        services.clock.as_ref(),
        services.banking,
        profile,
        submission.clone(),
    )
    .await;
    let kyc = match submitted {
        Ok(kyc) => kyc,
        // Submitted already (a second click): the page shows where it stands.
        Err(BankError::KycSubmitted) => return Ok(see_other(&resume_url(&here.request.handle))),
        Err(BankError::Kyc(error)) => {
            let status = StatusCode::BAD_REQUEST;
            let error = Some(sentence(&error));
            return Ok(page(&state, &here, profile, status, error, &submission));
        }
        Err(BankError::Store(store)) => return Err(store.into()),
        Err(other) => return Err(internal(&other)),
    };
    let event = state
        .event(AuditKind::KycChanged, format!("user:{}", here.user.id))
        .user(&here.user.id)
        .client(&here.client.id)
        .detail(
            serde_json::json!({ "profile": profile.id, "kyc": kyc.as_str(), "by": "submission" }),
        );
    state.record(event, ip);
    tracing::info!(profile = %profile.id, kyc = %kyc, "KYC submitted");
    // Approved: on to the next step. Pending: resuming comes back here, which shows "pending".
    Ok(see_other(&resume_url(&here.request.handle)))
}
