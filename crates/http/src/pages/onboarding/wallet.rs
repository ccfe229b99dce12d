//! `/onboarding/wallet`: connect a wallet by signing a Sign-In with Ethereum message (EIP-4361)
//! with it (EIP-191 `personal_sign`). Two forms that work without JavaScript: the first takes
//! the chain and the address and answers with a fresh message for them (a challenge bound to
//! this user and profile, valid for ten minutes, used once); the second takes the message back
//! with its signature. Where the browser has an EIP-1193 wallet, `/static/wallet.js` fills in
//! the address and asks the wallet to sign. A refusal says what is wrong.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::banking::accounts::BankError;
use portcullis_core::banking::onboarding::Step;
use portcullis_core::banking::ownership::{self, OwnershipSite, ProofError};
use portcullis_core::banking::profile::Profile;
use portcullis_core::banking::siwe::SiweMessage;
use portcullis_core::banking::wallet::{Chain, WalletError};
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

/// The message to sign, at the second form.
struct ChallengeView {
    message: String,
    address: String,
    chain: &'static str,
    signature: String,
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
    chains: Vec<ChainItem>,
    address: &'a str,
    challenge: Option<ChallengeView>,
}

fn label(chain: Chain) -> &'static str {
    match chain {
        Chain::Ethereum => "Ethereum",
        Chain::Gnosis => "Gnosis Chain",
        Chain::Polygon => "Polygon",
    }
}

/// What the page shows: the first form (with what was entered), or a message to sign.
enum Shown<'a> {
    Address { chain: &'a str, address: &'a str },
    Sign(ChallengeView),
}

fn page(
    here: &Here,
    profile: &Profile,
    status: StatusCode,
    error: Option<String>,
    form: Shown<'_>,
) -> Response {
    let (chain, address, challenge) = match form {
        Shown::Address { chain, address } => (chain, address, None),
        Shown::Sign(challenge) => ("", "", Some(challenge)),
    };
    let chains = Chain::ALL
        .into_iter()
        .map(|c| ChainItem {
            value: c.as_str(),
            label: label(c),
            selected: c.as_str() == chain,
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
            chains,
            address,
            challenge,
        },
    )
}

/// The site wallet messages name. The issuer is checked at start-up, so this cannot fail on
/// a running server; should it, the page fails rather than issue a message naming no site.
fn site(state: &AppState) -> Option<OwnershipSite> {
    OwnershipSite::for_issuer(state.issuer())
}

fn no_site() -> PageFailure {
    internal(&"the issuer has no host to name in wallet messages")
}

fn chain_of(id: u64) -> Option<Chain> {
    Chain::ALL.into_iter().find(|c| c.id() == id)
}

/// The first form: chain and address.
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
    let form = Shown::Address {
        chain: Chain::Ethereum.as_str(),
        address: "",
    };
    Ok(page(&here, profile, StatusCode::OK, None, form))
}

/// The first form's fields.
#[derive(Debug, Deserialize)]
pub struct AddressForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request: String,
    #[serde(default)]
    chain: String,
    #[serde(default)]
    address: String,
}

/// Issues a challenge for the chain and address and shows its message to sign.
pub async fn message(
    State(state): State<AppState>,
    browser: Browser,
    Form(form): Form<AddressForm>,
) -> Result<Response, PageFailure> {
    let here =
        match arrive_with_form(&state, &browser, &form.csrf, &form.request, Step::Wallet).await? {
            Arrival::Elsewhere(response) => return Ok(response),
            Arrival::Here(here) => here,
        };
    let Some(profile) = here.profile.as_ref() else {
        return Ok(see_other(&resume_url(&here.request.handle)));
    };
    let refuse = |error: &dyn std::fmt::Display| {
        let form = Shown::Address {
            chain: &form.chain,
            address: &form.address,
        };
        page(
            &here,
            profile,
            StatusCode::BAD_REQUEST,
            Some(sentence(error)),
            form,
        )
    };
    let chain = match form.chain.parse::<Chain>() {
        Ok(chain) => chain,
        Err(error) => return Ok(refuse(&error)),
    };
    let services = &state.services;
    let issued = ownership::issue_challenge(
        services.store.as_ref(),
        services.clock.as_ref(),
        services.random.as_ref(),
        &site(&state).ok_or_else(no_site)?,
        profile,
        chain,
        &form.address,
    )
    .await;
    match issued {
        Ok(message) => {
            let view = ChallengeView {
                address: message.address.checksummed(),
                chain: label(chain),
                message: message.to_string(),
                signature: String::new(),
            };
            Ok(page(
                &here,
                profile,
                StatusCode::OK,
                None,
                Shown::Sign(view),
            ))
        }
        Err(error @ BankError::Wallet(_)) => Ok(refuse(&error)),
        Err(BankError::Store(store)) => Err(store.into()),
        Err(other) => Err(internal(&other)),
    }
}

/// The second form's fields.
#[derive(Debug, Deserialize)]
pub struct ProofForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    signature: String,
}

/// Checks the signed message and the signature, links the wallet, and continues the request.
pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    Form(form): Form<ProofForm>,
) -> Result<Response, PageFailure> {
    let here =
        match arrive_with_form(&state, &browser, &form.csrf, &form.request, Step::Wallet).await? {
            Arrival::Elsewhere(response) => return Ok(response),
            Arrival::Here(here) => here,
        };
    let Some(profile) = here.profile.as_ref() else {
        return Ok(see_other(&resume_url(&here.request.handle)));
    };
    let services = &state.services;
    let linked = ownership::link_wallet(
        services.store.as_ref(),
        services.clock.as_ref(),
        services.random.as_ref(),
        &site(&state).ok_or_else(no_site)?,
        profile,
        &form.message,
        &form.signature,
    )
    .await;
    match linked {
        Ok(wallet) => {
            tracing::info!(profile = %profile.id, wallet = %wallet.id, chain = wallet.chain.as_str(), "wallet linked");
            Ok(see_other(&resume_url(&here.request.handle)))
        }
        Err(error @ (BankError::Wallet(_) | BankError::Proof(_) | BankError::AddressTaken)) => {
            Ok(refused(&here, profile, &form, &error))
        }
        Err(BankError::Store(store)) => Err(store.into()),
        Err(other) => Err(internal(&other)),
    }
}

/// The page after a refused proof: the same message again when only the signature was wrong,
/// otherwise the first form (filled in from the message) to ask for a new one.
fn refused(here: &Here, profile: &Profile, form: &ProofForm, error: &BankError) -> Response {
    let signed = SiweMessage::parse(&form.message.replace("\r\n", "\n")).ok();
    let address = signed.as_ref().map(|m| m.address.checksummed());
    let chain = signed.as_ref().and_then(|m| chain_of(m.chain_id));
    let retry_signature = matches!(
        error,
        BankError::Wallet(WalletError::WrongSigner | WalletError::MalformedSignature)
            | BankError::Proof(ProofError::FixedMessage)
    );
    let shown = match (retry_signature, &signed, chain) {
        (true, Some(message), Some(chain)) => Shown::Sign(ChallengeView {
            message: message.to_string(),
            address: message.address.checksummed(),
            chain: label(chain),
            signature: form.signature.clone(),
        }),
        _ => Shown::Address {
            chain: chain.unwrap_or(Chain::Ethereum).as_str(),
            address: address.as_deref().unwrap_or(""),
        },
    };
    page(
        here,
        profile,
        StatusCode::BAD_REQUEST,
        Some(sentence(error)),
        shown,
    )
}
