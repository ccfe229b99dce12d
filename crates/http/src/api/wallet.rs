//! `GET /api/v1/wallet/me` and `GET /api/v1/balances`.

use axum::Json;
use axum::extract::State;
use portcullis_core::store::Balance;
use serde::Serialize;

use super::{ProfileView, own_profile, require_any};
use crate::bearer::Bearer;
use crate::error::ApiError;
use crate::state::AppState;

/// A balance: integer minor units, with the decimals to show them.
#[derive(Debug, Serialize)]
pub struct BalanceView {
    currency: &'static str,
    amount: i64,
    decimals: u32,
    formatted: String,
}

impl From<&Balance> for BalanceView {
    fn from(b: &Balance) -> Self {
        let decimals = b.currency.decimals();
        let formatted = b.currency.format_amount(b.amount);
        Self {
            currency: b.currency.as_str(),
            amount: b.amount,
            decimals,
            formatted,
        }
    }
}

#[derive(Debug, Serialize)]
struct WalletView {
    id: String,
    chain: &'static str,
    address: String,
    iban: Option<String>,
    linked_at: String,
}

/// The profile's wallets, IBANs and balances.
#[derive(Debug, Serialize)]
pub struct WalletMe {
    profile: ProfileView,
    wallets: Vec<WalletView>,
    ibans: Vec<String>,
    balances: Vec<BalanceView>,
}

/// Wallets, IBANs and balances of the token's profile. (The Monei profile adds a `data`
/// member to this answer at the edge: `compat::monei::with_data_member`.)
pub async fn wallet_me(
    State(state): State<AppState>,
    token: Bearer,
) -> Result<Json<WalletMe>, ApiError> {
    Ok(Json(wallet_of(&state, &token).await?))
}

/// The body of `GET /api/v1/wallet/me`.
///
/// # Errors
/// Scope, profile and storage errors.
pub async fn wallet_of(state: &AppState, token: &Bearer) -> Result<WalletMe, ApiError> {
    require_any(token, &["wallet:read"])?;
    let profile = own_profile(state, token).await?;
    let store = &state.services.store;
    let ibans = store.ibans_of(&profile.id).await?;
    let wallets = store
        .wallets_of(&profile.id)
        .await?
        .into_iter()
        .map(|w| WalletView {
            iban: ibans
                .iter()
                .find(|i| i.wallet_id == w.id)
                .map(|i| i.iban.clone()),
            id: w.id,
            chain: w.chain.as_str(),
            address: w.address,
            linked_at: w.created_at.to_rfc3339(),
        })
        .collect();
    let balances = store
        .balances_of(&profile.id)
        .await?
        .iter()
        .map(BalanceView::from)
        .collect();
    Ok(WalletMe {
        profile: ProfileView::from(&profile),
        wallets,
        ibans: ibans.into_iter().map(|i| i.iban).collect(),
        balances,
    })
}

/// Balances of the token's profile.
pub async fn balances(
    State(state): State<AppState>,
    token: Bearer,
) -> Result<Json<Vec<BalanceView>>, ApiError> {
    require_any(&token, &["wallet:read", "users.balance:read"])?;
    let profile = own_profile(&state, &token).await?;
    let balances = state.services.store.balances_of(&profile.id).await?;
    Ok(Json(balances.iter().map(BalanceView::from).collect()))
}
