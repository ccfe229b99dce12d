//! `GET /account`: who is logged in, their profiles (KYC state, wallets, IBANs, balances) and
//! the apps they connected; revoking an app ends its access at once.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::account::{self, Revoker};
use portcullis_core::store::Store;
use portcullis_proto::{ClientId, UserId};
use serde::Deserialize;

use super::session::Browser;
use super::{PageFailure, render, see_other, stale_form};
use crate::state::AppState;

struct AppItem {
    client_id: String,
    name: String,
    since: String,
    scopes: Vec<String>,
    /// The profile the app acts for.
    profile: Option<String>,
}

struct WalletItem {
    chain: &'static str,
    address: String,
    iban: Option<String>,
}

struct BalanceItem {
    currency: String,
    amount: String,
}

struct ProfileItem {
    name: String,
    kind: &'static str,
    kyc: &'static str,
    wallets: Vec<WalletItem>,
    balances: Vec<BalanceItem>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    csrf: &'a str,
    name: &'a str,
    email: &'a str,
    banking: bool,
    profiles: Vec<ProfileItem>,
    apps: Vec<AppItem>,
}

/// The user's profiles with their wallets (and IBANs) and balances.
async fn profiles(store: &dyn Store, user: &UserId) -> Result<Vec<ProfileItem>, PageFailure> {
    let mut items = Vec::new();
    for profile in store.profiles_of(user).await? {
        let ibans = store.ibans_of(&profile.id).await?;
        let wallets = store
            .wallets_of(&profile.id)
            .await?
            .into_iter()
            .map(|w| WalletItem {
                iban: ibans
                    .iter()
                    .find(|i| i.wallet_id == w.id)
                    .map(|i| i.iban.clone()),
                chain: w.chain.as_str(),
                address: w.address,
            })
            .collect();
        let balances = store
            .balances_of(&profile.id)
            .await?
            .into_iter()
            .map(|b| BalanceItem {
                currency: b.currency.as_str().to_ascii_uppercase(),
                amount: b.currency.format_amount(b.amount),
            })
            .collect();
        items.push(ProfileItem {
            name: profile.name,
            kind: profile.kind.as_str(),
            kyc: profile.kyc.as_str(),
            wallets,
            balances,
        });
    }
    Ok(items)
}

/// The account page.
pub async fn show(
    State(state): State<AppState>,
    browser: Browser,
) -> Result<Response, PageFailure> {
    let (Some(user), Some(session)) = (&browser.user, &browser.session) else {
        return Ok(see_other("/login"));
    };
    let store = state.services.store.as_ref();
    let banking = state.services.banking.enabled;
    let profiles = if banking {
        profiles(store, &user.id).await?
    } else {
        Vec::new()
    };
    let mut apps = Vec::new();
    for consent in store.consents_of(&user.id).await? {
        let name = store
            .client(&consent.client_id)
            .await?
            .map_or_else(|| consent.client_id.to_string(), |c| c.name);
        let profile = match &consent.profile_id {
            Some(id) if banking => store
                .profile(id)
                .await?
                .filter(|p| p.user_id == user.id)
                .map(|p| p.name),
            _ => None,
        };
        apps.push(AppItem {
            client_id: consent.client_id.to_string(),
            name,
            since: consent.created_at.to_rfc3339().chars().take(10).collect(),
            scopes: consent.scope.to_vec(),
            profile,
        });
    }
    let page = AccountPage {
        csrf: &session.csrf_token,
        name: &user.name,
        email: &user.email,
        banking,
        profiles,
        apps,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The revoke form's fields.
#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    csrf: String,
    client_id: String,
}

/// Revokes an app: forgets the consent, ends its unredeemed codes and revokes every grant, so
/// refresh fails and its access tokens are refused from now on (one transaction, in core).
pub async fn revoke(
    State(state): State<AppState>,
    browser: Browser,
    super::session::ClientIp(ip): super::session::ClientIp,
    Form(form): Form<RevokeForm>,
) -> Result<Response, PageFailure> {
    if !browser.csrf_ok(&form.csrf) {
        return Ok(stale_form());
    }
    let Some(user) = &browser.user else {
        return Ok(see_other("/login"));
    };
    let client = ClientId::new(form.client_id);
    let actor = format!("user:{}", user.id);
    let by = Revoker {
        actor: &actor,
        reason: "revoked_by_user",
        ip,
    };
    account::revoke_app(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        state.services.audit.as_ref(),
        &user.id,
        &client,
        &by,
    )
    .await?;
    Ok(see_other("/account"))
}
