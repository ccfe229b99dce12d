//! `GET/POST /onboarding/wallet`: connect a wallet by signing the ownership message with it
//! (EIP-191 `personal_sign`). The page shows the exact message; a signature that does not come
//! from the address's key for that message is refused with a clear message.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::banking::accounts::{self, BankError};
use portcullis_core::banking::onboarding::Step;
use portcullis_core::banking::profile::Profile;
use portcullis_core::banking::wallet::{Chain, OWNERSHIP_MESSAGE};
use serde::Deserialize;

use super::{
    Arrival, Here, OnboardingQuery, StepItem, arrive, arrive_with_form, resume_url, sentence,
};
use crate::pages::session::Browser;
use crate::pages::{PageFailure, internal, render, see_other};
use crate::state::AppState;

struct ChainItem {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "onboarding_wallet.html")]
struct WalletPage<'a> {
    csrf: &'a str,
    request: &'a str,
    app: &'a str,
    steps: &'a [StepItem],
    error: Option<String>,
    profile_name: &'a str,
    message: &'static str,
    chains: Vec<ChainItem>,
    address: &'a str,
    signature: &'a str,
}

fn label(chain: Chain) -> &'static str {
    match chain {
        Chain::Ethereum => "Ethereum",
        Chain::Gnosis => "Gnosis Chain",
        Chain::Polygon => "Polygon",
    }
}

/// What the form held, to show it again after an error.
struct Entered<'a> {
    chain: &'a str,
    address: &'a str,
    signature: &'a str,
}

fn page(
    here: &Here,
    profile: &Profile,
    status: StatusCode,
    error: Option<String>,
    entered: &Entered<'_>,
) -> Response {
    let chains = Chain::ALL
        .into_iter()
        .map(|c| ChainItem {
            value: c.as_str(),
            label: label(c),
            selected: c.as_str() == entered.chain,
        })
        .collect();
    render(
        status,
        &WalletPage {
            csrf: &here.csrf,
            request: &here.request.handle,
            app: &here.client.name,
            steps: &here.steps,
            error,
            profile_name: &profile.name,
            message: OWNERSHIP_MESSAGE,
            chains,
            address: entered.address,
            signature: entered.signature,
        },
    )
}

/// The wallet form with the message to sign.
pub async fn show(
    State(state): State<AppState>,
    browser: Browser,
    Query(query): Query<OnboardingQuery>,
) -> Result<Response, PageFailure> {
    let here = match arrive(&state, &browser, &query.request, Step::Wallet).await? {
        Arrival::Elsewhere(response) => return Ok(response),
        Arrival::Here(here) => here,
    };
    let Some(profile) = here.profile.as_ref() else {
        return Ok(see_other(&resume_url(&here.request.handle)));
    };
    let entered = Entered {
        chain: Chain::Ethereum.as_str(),
        address: "",
        signature: "",
    };
    Ok(page(&here, profile, StatusCode::OK, None, &entered))
}

/// The wallet form's fields.
#[derive(Debug, Deserialize)]
pub struct WalletForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request: String,
    #[serde(default)]
    chain: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    signature: String,
}

/// Checks the signature, links the wallet, and continues the request.
pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    Form(form): Form<WalletForm>,
) -> Result<Response, PageFailure> {
    let here =
        match arrive_with_form(&state, &browser, &form.csrf, &form.request, Step::Wallet).await? {
            Arrival::Elsewhere(response) => return Ok(response),
            Arrival::Here(here) => here,
        };
    let Some(profile) = here.profile.as_ref() else {
        return Ok(see_other(&resume_url(&here.request.handle)));
    };
    let entered = Entered {
        chain: &form.chain,
        address: &form.address,
        signature: &form.signature,
    };
    let refuse = |error: &dyn std::fmt::Display| {
        page(
            &here,
            profile,
            StatusCode::BAD_REQUEST,
            Some(sentence(error)),
            &entered,
        )
    };
    let chain = match form.chain.parse::<Chain>() {
        Ok(chain) => chain,
        Err(error) => return Ok(refuse(&error)),
    };
    let services = &state.services;
    let linked = accounts::link_wallet(
        services.store.as_ref(),
        services.clock.as_ref(),
        services.random.as_ref(),
        &profile.id,
        chain,
        &form.address,
        &form.signature,
    )
    .await;
    match linked {
        Ok(wallet) => {
            tracing::info!(profile = %profile.id, wallet = %wallet.id, chain = chain.as_str(), "wallet linked");
            Ok(see_other(&resume_url(&here.request.handle)))
        }
        Err(error @ (BankError::Wallet(_) | BankError::AddressTaken)) => Ok(refuse(&error)),
        Err(BankError::Store(store)) => Err(store.into()),
        Err(other) => Err(internal(&other)),
    }
}
