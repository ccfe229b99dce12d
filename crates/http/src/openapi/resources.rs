//! The resource API's operations (`crate::api`), documented on stubs, with the shapes of the
//! bodies its handlers build. Each function here stands for the handler of the same route and
//! is never called.

#![allow(dead_code)] // Stubs and shapes: the handlers and their bodies live in `crate::api`.

use portcullis_proto::ErrorResponse;
use portcullis_proto::admin::Page;
use serde::Serialize;
use utoipa::ToSchema;

use super::admin::PageParams;

/// The user of a user token.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// User id (the token's `sub`).
    id: String,
    /// Email.
    email: String,
    /// Name.
    name: String,
}

/// A profile's KYC state.
#[derive(Debug, Serialize, ToSchema)]
pub struct KycView {
    /// `absent`, `pending`, `approved` or `rejected`.
    state: String,
}

/// A profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    /// Profile id.
    id: String,
    /// `personal` or `corporate`.
    kind: String,
    /// The person's or the company's name.
    name: String,
    /// Verification.
    kyc: KycView,
    /// Creation, RFC 3339.
    created_at: String,
}

/// Who a token speaks for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum AuthContext {
    /// A user's token.
    User {
        /// The user id.
        #[serde(rename = "userId")]
        user_id: String,
        /// The user's email.
        email: Option<String>,
        /// The user's name.
        name: Option<String>,
        /// The client the token was issued to.
        client_id: String,
        /// The token's scopes, space-delimited.
        scope: String,
        /// The profile the token is bound to, if any.
        #[serde(rename = "defaultProfile")]
        default_profile: Option<String>,
        /// The profiles the token may act for.
        profiles: Vec<ProfileView>,
    },
    /// A client's own token (client credentials).
    Client {
        /// The client.
        client_id: String,
        /// The token's scopes, space-delimited.
        scope: String,
        /// For a partner, the profiles that granted it access; otherwise empty.
        profiles: Vec<ProfileView>,
    },
}

/// A balance in integer minor units.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceView {
    /// `eur`, `usd`, `gbp` or `isk`.
    currency: String,
    /// Minor units (cents).
    amount: i64,
    /// Decimals of the currency.
    decimals: u32,
    /// The amount with its decimal point, e.g. `12.50`.
    formatted: String,
}

/// A linked wallet.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalletView {
    /// Wallet id.
    id: String,
    /// `ethereum`, `gnosis` or `polygon`.
    chain: String,
    /// The address.
    address: String,
    /// The IBAN that pays into it, if one was issued.
    iban: Option<String>,
    /// When it was linked, RFC 3339.
    linked_at: String,
}

/// The token's profile with its wallets, IBANs and balances.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalletMe {
    /// The profile.
    profile: ProfileView,
    /// Its wallets.
    wallets: Vec<WalletView>,
    /// Its IBANs.
    ibans: Vec<String>,
    /// Its balances.
    balances: Vec<BalanceView>,
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    /// Order id.
    id: String,
    /// The profile it belongs to.
    profile: String,
    /// `issue` (money in) or `redeem` (money out).
    kind: String,
    /// `eur`, `usd`, `gbp` or `isk`.
    currency: String,
    /// Minor units.
    amount: i64,
    /// The IBAN money goes to (redeem).
    counterpart_iban: Option<String>,
    /// Free text.
    memo: Option<String>,
    /// `placed`, `pending`, `processed` or `rejected`.
    state: String,
    /// Why it was rejected, e.g. `insufficient_funds`.
    reason: Option<String>,
    /// Creation, RFC 3339.
    created_at: String,
    /// Last change, RFC 3339.
    updated_at: String,
}

/// The body of `POST /api/v1/orders`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    /// `issue` or `redeem`.
    kind: String,
    /// `eur`, `usd`, `gbp` or `isk`.
    currency: String,
    /// Minor units, positive.
    amount: i64,
    /// The IBAN money goes to (redeem).
    counterpart_iban: Option<String>,
    /// Free text.
    memo: Option<String>,
}

/// The token's user
#[utoipa::path(
    get, path = "/api/v1/me", tag = "resources", operation_id = "me",
    responses(
        (status = 200, description = "The user.", body = Me),
        (status = 404, description = "`not_found`: a client's own token has no user.", body = ErrorResponse),
    ),
    security(("oauth2" = ["profile:read"]), ("oauth2" = ["auth.user_identity:read"]))
)]
pub fn me() {}

/// Who the token speaks for
///
/// For a user token, the user and the profiles it may act for; for a partner's
/// client-credentials token, the profiles that granted the partner access.
#[utoipa::path(
    get, path = "/api/v1/auth/context", tag = "resources", operation_id = "authContext",
    responses((status = 200, description = "The token's context.", body = AuthContext)),
    security(("oauth2" = []))
)]
pub fn auth_context() {}

/// The profiles the token may see
#[utoipa::path(
    get, path = "/api/v1/profiles", tag = "resources", operation_id = "listProfiles",
    params(PageParams),
    responses(
        (status = 200, description = "A page of profiles, by id.", body = Page<ProfileView>),
        (status = 400, description = "`invalid_request`: malformed query string.", body = ErrorResponse),
    ),
    security(("oauth2" = ["profile:read"]), ("oauth2" = ["users.profiles:read"]))
)]
pub fn list_profiles() {}

/// One profile
#[utoipa::path(
    get, path = "/api/v1/profiles/{id}", tag = "resources", operation_id = "showProfile",
    params(("id" = String, Path, description = "The profile id.")),
    responses(
        (status = 200, description = "The profile.", body = ProfileView),
        (status = 404, description = "`not_found`: no such profile, or not one the token may see.", body = ErrorResponse),
    ),
    security(("oauth2" = ["profile:read"]), ("oauth2" = ["users.profiles:read"]))
)]
pub fn show_profile() {}

/// The token's profile with wallets, IBANs and balances
#[utoipa::path(
    get, path = "/api/v1/wallet/me", tag = "resources", operation_id = "walletMe",
    responses(
        (status = 200, description = "Wallets, IBANs and balances.", body = WalletMe),
        (status = 404, description = "`not_found`: no profile is bound to the token.", body = ErrorResponse),
    ),
    security(("oauth2" = ["wallet:read"]))
)]
pub fn wallet_me() {}

/// The balances of the token's profile
#[utoipa::path(
    get, path = "/api/v1/balances", tag = "resources", operation_id = "balances",
    responses(
        (status = 200, description = "One balance per currency.", body = Vec<BalanceView>),
        (status = 404, description = "`not_found`: no profile is bound to the token.", body = ErrorResponse),
    ),
    security(("oauth2" = ["wallet:read"]), ("oauth2" = ["users.balance:read"]))
)]
pub fn balances() {}

/// The orders of the token's profile
#[utoipa::path(
    get, path = "/api/v1/orders", tag = "resources", operation_id = "listOrders",
    params(PageParams),
    responses(
        (status = 200, description = "A page of orders.", body = Page<OrderView>),
        (status = 400, description = "`invalid_request`: malformed query string.", body = ErrorResponse),
        (status = 404, description = "`not_found`: no profile is bound to the token.", body = ErrorResponse),
    ),
    security(("oauth2" = ["orders:read"]))
)]
pub fn list_orders() {}

/// Place an order
///
/// Idempotent by the `Idempotency-Key` header: the same key and body return the same order
/// (200); the same key with another body is refused (409). A redeem larger than the balance is
/// recorded as `rejected` with reason `insufficient_funds`. Apps move money out only: an
/// `issue` order is refused (403), since money arrives from outside by incoming transfer.
#[utoipa::path(
    post, path = "/api/v1/orders", tag = "resources", operation_id = "placeOrder",
    params(("Idempotency-Key" = String, Header, description = "A key unique to this order, chosen by the client.")),
    request_body = PlaceOrder,
    responses(
        (status = 201, description = "Placed.", body = OrderView),
        (status = 200, description = "The order this key already placed.", body = OrderView),
        (status = 400, description = "`invalid_request`: missing key, malformed or invalid order.", body = ErrorResponse),
        (status = 403, description = "`access_denied`: an `issue` order; apps may place `redeem` orders only.", body = ErrorResponse),
        (status = 404, description = "`not_found`: no profile is bound to the token.", body = ErrorResponse),
        (status = 409, description = "`conflict`: the key was used for another order, or the profile is not approved.", body = ErrorResponse),
    ),
    security(("oauth2" = ["orders:write"]))
)]
pub fn place_order() {}

/// One order of the token's profile
#[utoipa::path(
    get, path = "/api/v1/orders/{id}", tag = "resources", operation_id = "showOrder",
    params(("id" = String, Path, description = "The order id.")),
    responses(
        (status = 200, description = "The order.", body = OrderView),
        (status = 404, description = "`not_found`: no such order of this profile.", body = ErrorResponse),
    ),
    security(("oauth2" = ["orders:read"]))
)]
pub fn show_order() {}
