//! Administration bodies: the admin API's requests and responses, which the CLI's `--json`
//! output shares.

use serde::{Deserialize, Serialize};

use crate::Secret;

/// A client's stored settings, plus its secret when one was just made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientView {
    /// The client id.
    pub client_id: String,
    /// The secret: present only in the answer that created or rotated it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub client_secret: Option<Secret>,
    /// Until when the previous secret is still accepted, after a rotation with grace.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub previous_secret_expires_at: Option<String>,
    /// Display name.
    pub name: String,
    /// Public (no secret) or confidential.
    pub public: bool,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Where the browser may be sent after logout (RP-Initiated Logout 1.0).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Origins whose scripts may call the token, revocation and userinfo endpoints (CORS).
    #[serde(default)]
    pub web_origins: Vec<String>,
    /// Every token request must carry a DPoP proof (RFC 9449 §5.2).
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// Authorization requests must be pushed first (RFC 9126 §6).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// The public keys of a `private_key_jwt` client (a JWK Set).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub jwks: Option<serde_json::Value>,
    /// Allowed grants.
    pub grant_types: Vec<String>,
    /// Allowed scopes, space-delimited.
    pub scope: String,
    /// Access-token lifetime, seconds.
    pub access_token_ttl: i64,
    /// Refresh-token lifetime, seconds.
    pub refresh_token_ttl: i64,
    /// `s256`, `plain-allowed` or `optional`.
    pub pkce: String,
    /// ID-token algorithm.
    pub id_token_alg: String,
    /// May read the profiles that granted it access.
    pub partner: bool,
    /// May call the admin API.
    pub admin: bool,
    /// Disabled clients can do nothing.
    pub enabled: bool,
    /// Logo shown on consent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub logo_uri: Option<String>,
    /// Homepage shown on consent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub homepage_uri: Option<String>,
    /// Creation, RFC 3339.
    pub created_at: String,
    /// Last change, RFC 3339.
    pub updated_at: String,
}

/// The body of `POST /admin/v1/clients`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    /// A chosen id; generated when absent.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Display name.
    pub name: String,
    /// Public client (no secret).
    #[serde(default)]
    pub public: bool,
    /// Redirect URIs.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Web origins (`scheme://host[:port]`) allowed to call the token endpoint from a browser.
    #[serde(default)]
    pub web_origins: Vec<String>,
    /// Require a DPoP proof at every token request, so every access token is bound to a key.
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// Require authorization requests to be pushed first (RFC 9126).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// Public keys (a JWK Set) for `private_key_jwt` (RFC 7523): the client gets no secret and
    /// authenticates with assertions signed by one of them.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub jwks: Option<serde_json::Value>,
    /// Grants (default: authorization_code and refresh_token).
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Scopes, space-delimited (default: `openid profile email`; `admin` for an admin client).
    #[serde(default)]
    pub scope: Option<String>,
    /// Access-token lifetime, seconds.
    #[serde(default)]
    pub access_token_ttl: Option<i64>,
    /// Refresh-token lifetime, seconds.
    #[serde(default)]
    pub refresh_token_ttl: Option<i64>,
    /// `s256` (default), `plain-allowed`, `optional`.
    #[serde(default)]
    pub pkce: Option<String>,
    /// Required with `public` and `pkce: optional`.
    #[serde(default)]
    pub acknowledge_public_without_pkce: bool,
    /// ID-token algorithm (default RS256).
    #[serde(default)]
    pub id_token_alg: Option<String>,
    /// Partner flag.
    #[serde(default)]
    pub partner: bool,
    /// Admin flag.
    #[serde(default)]
    pub admin: bool,
    /// Logo URL (https).
    #[serde(default)]
    pub logo_uri: Option<String>,
    /// Homepage URL (https).
    #[serde(default)]
    pub homepage_uri: Option<String>,
}

/// The body of `PATCH /admin/v1/clients/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Redirect URIs (replacing all).
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    /// Post-logout redirect URIs (replacing all).
    #[serde(default)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Web origins (replacing all).
    #[serde(default)]
    pub web_origins: Option<Vec<String>>,
    /// Require a DPoP proof at every token request.
    #[serde(default)]
    pub dpop_bound_access_tokens: Option<bool>,
    /// Require authorization requests to be pushed first.
    #[serde(default)]
    pub require_pushed_authorization_requests: Option<bool>,
    /// New public keys for `private_key_jwt` (replacing all; a secret stops working).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub jwks: Option<serde_json::Value>,
    /// Grants.
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    /// Scopes, space-delimited.
    #[serde(default)]
    pub scope: Option<String>,
    /// Access-token lifetime, seconds.
    #[serde(default)]
    pub access_token_ttl: Option<i64>,
    /// Refresh-token lifetime, seconds.
    #[serde(default)]
    pub refresh_token_ttl: Option<i64>,
    /// PKCE policy.
    #[serde(default)]
    pub pkce: Option<String>,
    /// Required to make a public client's PKCE optional.
    #[serde(default)]
    pub acknowledge_public_without_pkce: bool,
    /// ID-token algorithm.
    #[serde(default)]
    pub id_token_alg: Option<String>,
    /// Partner flag.
    #[serde(default)]
    pub partner: Option<bool>,
    /// Admin flag.
    #[serde(default)]
    pub admin: Option<bool>,
    /// Enabled flag.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Logo URL; empty string removes it.
    #[serde(default)]
    pub logo_uri: Option<String>,
    /// Homepage URL; empty string removes it.
    #[serde(default)]
    pub homepage_uri: Option<String>,
}

/// The body of `POST /admin/v1/clients/{id}/rotate-secret`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// Seconds the old secret keeps working (0 or absent: it stops at once).
    #[serde(default)]
    pub grace_seconds: Option<i64>,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    /// The user id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// E.164 phone number, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Whether the platform confirmed the number.
    #[serde(default)]
    pub phone_number_verified: bool,
    /// Postal address, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<crate::claims::Address>,
    /// The user's profiles.
    pub profiles: Vec<ProfileSummary>,
    /// Creation, RFC 3339.
    pub created_at: String,
}

/// What revoking one app's access to a user ended
/// (`DELETE /admin/v1/users/{id}/apps/{client_id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppRevoked {
    /// The user id.
    pub user_id: String,
    /// The app.
    pub client_id: String,
    /// Whether a consent was forgotten.
    pub consent_forgotten: bool,
    /// Grants revoked (their refresh and access tokens stop working).
    pub grants_revoked: u64,
    /// Authorization codes not yet redeemed that can no longer be.
    pub codes_ended: u64,
}

/// A profile, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileSummary {
    /// The profile id.
    pub id: String,
    /// `personal` or `corporate`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// KYC state.
    pub kyc: String,
}

/// The body of `POST /admin/v1/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Initial password.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub password: Secret,
}

/// The body of `PATCH /admin/v1/users/{id}`, as a JSON merge patch (RFC 7396): a field left out
/// stays, `null` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// The display name (the `name` claim), 1 to 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E.164 phone number, like `+34600123456` (the `phone_number` claim); `null` clears it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub phone_number: Option<Option<String>>,
    /// Whether the platform confirmed the user holds the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
    /// Postal address (the `address` claim); `null` clears it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::claims::Address>))]
    pub address: Option<Option<crate::claims::Address>>,
}

/// A field that is present, `null` included: left out stays `None` (the default).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// The body of `POST /admin/v1/users/{id}/kyc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetKyc {
    /// `absent`, `pending`, `approved` or `rejected`.
    pub state: String,
    /// Which profile (default: the user's first).
    #[serde(default)]
    pub profile: Option<String>,
}

/// The body of `POST /admin/v1/users/{id}/fund`: a sandbox credit, standing in for an
/// incoming transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FundProfile {
    /// `eur`, `usd`, `gbp` or `isk`.
    pub currency: String,
    /// Minor units (cents), 1 to 1000000000.
    pub amount: i64,
    /// Which profile (default: the user's first).
    #[serde(default)]
    pub profile: Option<String>,
    /// The sending account's IBAN.
    #[serde(default)]
    pub from_iban: Option<String>,
    /// Text on the transfer.
    #[serde(default)]
    pub memo: Option<String>,
}

/// An audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditView {
    /// Position (the cursor for the next page).
    pub seq: i64,
    /// When, RFC 3339.
    pub at: String,
    /// What.
    pub kind: String,
    /// Who acted.
    pub actor: String,
    /// The client concerned.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_id: Option<String>,
    /// The user concerned.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_id: Option<String>,
    /// Client IP.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ip: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Ids, scopes, reasons.
    pub detail: serde_json::Value,
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page, absent on the last.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_cursor: Option<String>,
}
