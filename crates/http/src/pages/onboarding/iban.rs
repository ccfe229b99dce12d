//! `GET/POST /onboarding/iban`: attach a sandbox IBAN (ISO 13616, valid check digits) to one
//! of the profile's wallets, so that money sent to the IBAN lands on the wallet's account.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::banking::accounts::{self, BankError};
use portcullis_core::banking::onboarding::Step;
use serde::Deserialize;

use super::{
    Arrival, Here, OnboardingQuery, StepItem, arrive, arrive_with_form, resume_url, sentence,
};
use crate::pages::session::Browser;
use crate::pages::{PageFailure, internal, render, see_other};
use crate::state::AppState;

struct WalletItem {
    id: String,
    chain: &'static str,
    address: String,
}

#[derive(Template)]
#[template(path = "onboarding_iban.html")]
struct IbanPage<'a> {
    csrf: &'a str,
    request: &'a str,
    app: &'a str,
    steps: &'a [StepItem],
    error: Option<String>,
    profile_name: &'a str,
    wallets: Vec<WalletItem>,
}

/// The page: the profile's wallets (none has an IBAN yet at this step), one to choose.
async fn page(
    state: &AppState,
    here: &Here,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, PageFailure> {
    let Some(profile) = here.profile.as_ref() else {
        return Ok(see_other(&resume_url(&here.request.handle)));
    };
    let wallets = state
        .services
        .store
        .wallets_of(&profile.id)
        .await?
        .into_iter()
        .map(|w| WalletItem {
            id: w.id,
            chain: w.chain.as_str(),
            address: w.address,
        })
        .collect();
    Ok(render(
        status,
        &IbanPage {
            csrf: &here.csrf,
            request: &here.request.handle,
            app: &here.client.name,
            steps: &here.steps,
            error,
            profile_name: &profile.name,
            wallets,
        },
    ))
}

/// The IBAN page.
pub async fn show(
    State(state): State<AppState>,
    browser: Browser,
    Query(query): Query<OnboardingQuery>,
) -> Result<Response, PageFailure> {
    match arrive(&state, &browser, &query.request, Step::Iban).await? {
        Arrival::Elsewhere(response) => Ok(response),
        Arrival::Here(here) => page(&state, &here, StatusCode::OK, None).await,
    }
}

/// The IBAN form's fields.
#[derive(Debug, Deserialize)]
pub struct IbanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request: String,
    #[serde(default)]
    wallet: String,
}

/// Issues an IBAN for the chosen wallet (which must be the profile's) and continues.
pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    Form(form): Form<IbanForm>,
) -> Result<Response, PageFailure> {
    let here =
        match arrive_with_form(&state, &browser, &form.csrf, &form.request, Step::Iban).await? {
            Arrival::Elsewhere(response) => return Ok(response),
            Arrival::Here(here) => here,
        };
    let Some(profile) = here.profile.as_ref() else {
        return Ok(see_other(&resume_url(&here.request.handle)));
    };
    let services = &state.services;
    let issued = accounts::issue_iban(
        services.store.as_ref(),
        services.clock.as_ref(),
        services.random.as_ref(),
        &profile.id,
        &form.wallet,
    )
    .await;
    match issued {
        Ok(iban) => {
            tracing::info!(profile = %profile.id, wallet = %iban.wallet_id, "IBAN issued");
            Ok(see_other(&resume_url(&here.request.handle)))
        }
        Err(BankError::HasIban) => Ok(see_other(&resume_url(&here.request.handle))),
        Err(error @ BankError::UnknownWallet) => {
            page(
                &state,
                &here,
                StatusCode::BAD_REQUEST,
                Some(sentence(&error)),
            )
            .await
        }
        Err(BankError::Store(store)) => Err(store.into()),
        Err(other) => Err(internal(&other)),
    }
}
