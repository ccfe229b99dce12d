//! `GET/POST /onboarding/profile`: create the profile the app will act for, personal or
//! corporate.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::banking::accounts::{self, BankError};
use portcullis_core::banking::onboarding::Step;
use portcullis_core::banking::profile::ProfileKind;
use serde::Deserialize;

use super::{
    Arrival, Here, OnboardingQuery, StepItem, arrive, arrive_with_form, resume_url, sentence,
};
use crate::pages::session::Browser;
use crate::pages::{PageFailure, internal, render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "onboarding_profile.html")]
struct ProfilePage<'a> {
    csrf: &'a str,
    request: &'a str,
    app: &'a str,
    steps: &'a [StepItem],
    error: Option<String>,
    kind: &'a str,
    name: &'a str,
}

fn page(
    here: &Here,
    status: StatusCode,
    error: Option<String>,
    kind: &str,
    name: &str,
) -> Response {
    render(
        status,
        &ProfilePage {
            csrf: &here.csrf,
            request: &here.request.handle,
            app: &here.client.name,
            steps: &here.steps,
            error,
            kind,
            name,
        },
    )
}

/// The profile form, with the user's name filled in.
pub async fn show(
    State(state): State<AppState>,
    browser: Browser,
    Query(query): Query<OnboardingQuery>,
) -> Result<Response, PageFailure> {
    match arrive(&state, &browser, &query.request, Step::Profile).await? {
        Arrival::Elsewhere(response) => Ok(response),
        Arrival::Here(here) => Ok(page(
            &here,
            StatusCode::OK,
            None,
            "personal",
            &here.user.name,
        )),
    }
}

/// The profile form's fields.
#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

/// Creates the profile (KYC absent) and continues the request.
pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    Form(form): Form<ProfileForm>,
) -> Result<Response, PageFailure> {
    let here =
        match arrive_with_form(&state, &browser, &form.csrf, &form.request, Step::Profile).await? {
            Arrival::Elsewhere(response) => return Ok(response),
            Arrival::Here(here) => here,
        };
    let Ok(kind) = form.kind.parse::<ProfileKind>() else {
        let error = Some("Choose a personal or a corporate profile.".to_owned());
        return Ok(page(&here, StatusCode::BAD_REQUEST, error, "", &form.name));
    };
    let services = &state.services;
    let created = accounts::create_profile(
        services.store.as_ref(),
        services.clock.as_ref(),
        services.random.as_ref(),
        &here.user.id,
        kind,
        &form.name,
    )
    .await;
    match created {
        Ok(profile) => {
            tracing::info!(user = %here.user.id, profile = %profile.id, "profile created");
            Ok(see_other(&resume_url(&here.request.handle)))
        }
        Err(BankError::Name) => Ok(page(
            &here,
            StatusCode::BAD_REQUEST,
            Some(sentence(&BankError::Name)),
            kind.as_str(),
            &form.name,
        )),
        Err(BankError::Store(store)) => Err(store.into()),
        Err(other) => Err(internal(&other)),
    }
}
