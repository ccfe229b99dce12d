//! The admin API's operations (`crate::admin`), documented on stubs: each function here stands
//! for the handler of the same route and is never called.

#![allow(dead_code)] // Stubs: they carry the documentation, the handlers live in `crate::admin`.

use portcullis_proto::ErrorResponse;
use portcullis_proto::admin::{
    AppRevoked, AuditView, ClientView, CreateClient, CreateUser, FundProfile, Page, RotateSecret,
    SetKyc, UpdateClient, UpdateUser, UserView,
};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// `?limit=&cursor=` of the admin lists.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page; absent for the first page.
    cursor: Option<String>,
}

/// The filters of `GET /admin/v1/audit`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only this kind of event: sign_up, login_succeeded, login_failed, logged_out, throttled,
    /// consent_given, consent_partial, consent_denied, grant_revoked, tokens_issued,
    /// token_revoked, code_reuse, refresh_reuse, client_created, client_updated,
    /// client_deleted, client_secret_rotated, user_created, user_disabled, user_updated,
    /// kyc_changed, keys_rotated, sandbox_funded.
    kind: Option<String>,
    /// Only events about this client.
    client_id: Option<String>,
    /// Only events about this user.
    user_id: Option<String>,
    /// Only events at or after this time, seconds since the epoch.
    since: Option<i64>,
    /// Only events before this time, seconds since the epoch.
    until: Option<i64>,
    /// The `seq` of the last event seen (the previous page's `next_cursor`).
    cursor: Option<i64>,
    /// Events per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// A signing key.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// Key id (`kid` in JWT headers and the JWKS).
    kid: String,
    /// ES256, EdDSA, PS256 or RS256.
    alg: String,
    /// `pending` (published, not yet signing), `active` (signing) or `retiring` (published
    /// until the tokens it signed expire).
    state: String,
    /// Creation, RFC 3339.
    created_at: String,
    /// When it signs (or signed) from, RFC 3339.
    activates_at: String,
}

/// The signing keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    /// Every key this server holds.
    keys: Vec<KeyView>,
}

/// The body of `POST /admin/v1/keys/rotate`; may be empty.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeys {
    /// Algorithms to rotate (default: every algorithm that has a key).
    #[serde(default)]
    algs: Vec<String>,
    /// Seconds before the new keys sign (default: the configured `key_activation_delay`); 0
    /// after a key compromise.
    #[serde(default)]
    activate_after_seconds: Option<i64>,
}

/// A key made by a rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedKey {
    /// Key id.
    kid: String,
    /// Algorithm.
    alg: String,
    /// When it starts signing, RFC 3339.
    activates_at: String,
}

/// The keys a rotation made.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedKeys {
    /// One per algorithm rotated.
    keys: Vec<RotatedKey>,
}

/// List clients
///
/// Clients in id order, a page at a time. Secrets are never shown.
#[utoipa::path(
    get, path = "/admin/v1/clients", tag = "admin", operation_id = "listClients",
    params(PageParams),
    responses(
        (status = 200, description = "A page of clients.", body = Page<ClientView>),
        (status = 400, description = "`invalid_request`: malformed query string.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn list_clients() {}

/// Register a client
///
/// Checks the registration rules (redirect URIs: https, or http on loopback only, no fragment,
/// wildcard, `javascript:`, `data:`, `file:` or relative URI; no client credentials for a
/// public client; PKCE for public clients unless acknowledged; known scopes; lifetimes in
/// bounds). A confidential client's secret is in this answer only: just its hash is stored.
#[utoipa::path(
    post, path = "/admin/v1/clients", tag = "admin", operation_id = "createClient",
    request_body = CreateClient,
    responses(
        (status = 201, description = "Registered; `client_secret` is shown this once.", body = ClientView),
        (status = 400, description = "`invalid_request`: a rule is broken; the description says which.", body = ErrorResponse),
        (status = 409, description = "`conflict`: a client with this id exists.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn create_client() {}

/// Show a client
#[utoipa::path(
    get, path = "/admin/v1/clients/{id}", tag = "admin", operation_id = "showClient",
    params(("id" = String, Path, description = "The client id.")),
    responses(
        (status = 200, description = "The client's settings.", body = ClientView),
        (status = 404, description = "`not_found`: no such client.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn show_client() {}

/// Change a client
///
/// Only the fields given change (`redirect_uris` and `grant_types` replace the lists; an
/// empty `logo_uri` or `homepage_uri` removes it). The result must pass the registration
/// rules. Nodes pick the change up within their client cache lifetime. The calling admin
/// client cannot take away its own admin access (disable itself, drop `admin`, the `admin`
/// scope or client credentials): 409.
#[utoipa::path(
    patch, path = "/admin/v1/clients/{id}", tag = "admin", operation_id = "updateClient",
    params(("id" = String, Path, description = "The client id.")),
    request_body = UpdateClient,
    responses(
        (status = 200, description = "The changed client.", body = ClientView),
        (status = 400, description = "`invalid_request`: a rule is broken.", body = ErrorResponse),
        (status = 404, description = "`not_found`: no such client.", body = ErrorResponse),
        (status = 409, description = "`conflict`: the caller would lock itself out.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn update_client() {}

/// Delete a client
///
/// Deletes the client and everything issued to it. The calling admin client cannot delete
/// itself (409): another admin client, or the CLI, can.
#[utoipa::path(
    delete, path = "/admin/v1/clients/{id}", tag = "admin", operation_id = "deleteClient",
    params(("id" = String, Path, description = "The client id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`not_found`: no such client.", body = ErrorResponse),
        (status = 409, description = "`conflict`: the caller would delete itself.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn delete_client() {}

/// Rotate a client's secret
///
/// Makes a new secret, shown in this answer only. With `grace_seconds`, the previous secret
/// keeps working that long (`previous_secret_expires_at`); without, it stops at once. The body
/// may be empty.
#[utoipa::path(
    post, path = "/admin/v1/clients/{id}/rotate-secret", tag = "admin",
    operation_id = "rotateClientSecret",
    params(("id" = String, Path, description = "The client id.")),
    request_body(content = Option<RotateSecret>, description = "Optional; empty for no grace."),
    responses(
        (status = 200, description = "The client with its new `client_secret`, shown this once.", body = ClientView),
        (status = 400, description = "`invalid_request`: a public client has no secret.", body = ErrorResponse),
        (status = 404, description = "`not_found`: no such client.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn rotate_client_secret() {}

/// List users
#[utoipa::path(
    get, path = "/admin/v1/users", tag = "admin", operation_id = "listUsers",
    params(PageParams),
    responses(
        (status = 200, description = "A page of users with their profiles.", body = Page<UserView>),
        (status = 400, description = "`invalid_request`: malformed query string.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn list_users() {}

/// Create a user
#[utoipa::path(
    post, path = "/admin/v1/users", tag = "admin", operation_id = "createUser",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created.", body = UserView),
        (status = 400, description = "`invalid_request`: malformed email, name or weak password.", body = ErrorResponse),
        (status = 409, description = "`conflict`: the email is taken.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn create_user() {}

/// Show a user
#[utoipa::path(
    get, path = "/admin/v1/users/{id}", tag = "admin", operation_id = "showUser",
    params(("id" = String, Path, description = "The user id, or their email.")),
    responses(
        (status = 200, description = "The user with their profiles.", body = UserView),
        (status = 404, description = "`not_found`: no such user.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn show_user() {}

/// Change a user's name, phone number or address
///
/// A JSON merge patch (RFC 7396): a field left out stays, `null` clears it. These are what the
/// OpenID Connect `profile`, `phone` and `address` scopes release, in ID tokens and userinfo,
/// from the next token on. A new phone number is unconfirmed unless the same change sets
/// `phone_number_verified`. Audited as `user_updated` (which fields, not their values).
#[utoipa::path(
    patch, path = "/admin/v1/users/{id}", tag = "admin", operation_id = "updateUser",
    params(("id" = String, Path, description = "The user id, or their email.")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The changed user.", body = UserView),
        (status = 400, description = "`invalid_request`: a malformed body, a name that is empty or over 100 characters, a phone number not in international form, or an address part over 200 characters.", body = ErrorResponse),
        (status = 404, description = "`not_found`: no such user.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn update_user() {}

/// Disable a user
///
/// The user can no longer log in, their sessions end and every grant they gave is revoked:
/// their refresh tokens fail and their access tokens introspect inactive.
#[utoipa::path(
    post, path = "/admin/v1/users/{id}/disable", tag = "admin", operation_id = "disableUser",
    params(("id" = String, Path, description = "The user id, or their email.")),
    responses(
        (status = 200, description = "The disabled user.", body = UserView),
        (status = 404, description = "`not_found`: no such user.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn disable_user() {}

/// Revoke one app's access to a user
///
/// What the user's own "Revoke access" does: the consent is forgotten, and in one transaction
/// every authorization code the app holds but has not redeemed and every grant it has end, so
/// its refresh tokens fail and its access tokens introspect inactive. Revoking an app that has
/// nothing left is not an error: the counts are zero.
#[utoipa::path(
    delete, path = "/admin/v1/users/{id}/apps/{client_id}", tag = "admin", operation_id = "revokeUserApp",
    params(
        ("id" = String, Path, description = "The user id, or their email."),
        ("client_id" = String, Path, description = "The app's client id."),
    ),
    responses(
        (status = 200, description = "What ended.", body = AppRevoked),
        (status = 404, description = "`not_found`: no such user.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn revoke_user_app() {}

/// Credit a profile (sandbox)
///
/// Money reaches a profile from outside, by incoming transfer; apps cannot place `issue`
/// orders. In the sandbox this call stands in for that transfer: it records a processed
/// `issue` order for one of the user's profiles (default: the first), whose KYC must be
/// approved, and an audit event. It is refused with 403 where sandbox funding is off (any
/// server not started with `--sandbox` or `sandbox_funding = true`). With an `Idempotency-Key`
/// header, a retry with the same body answers the first order (200) and another body is
/// refused (409).
#[utoipa::path(
    post, path = "/admin/v1/users/{id}/fund", tag = "admin", operation_id = "fundUser",
    params(
        ("id" = String, Path, description = "The user id, or their email."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe."),
    ),
    request_body = FundProfile,
    responses(
        (status = 201, description = "Credited: the processed order.", body = crate::openapi::resources::OrderView),
        (status = 200, description = "A retry: the order the key placed.", body = crate::openapi::resources::OrderView),
        (status = 400, description = "`invalid_request`: unknown currency, amount out of range, bad IBAN.", body = ErrorResponse),
        (status = 403, description = "`access_denied`: sandbox funding is off on this server.", body = ErrorResponse),
        (status = 404, description = "`not_found`: no such user, or no such profile of theirs.", body = ErrorResponse),
        (status = 409, description = "`conflict`: KYC not approved, or the key was used for another credit.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn fund_user() {}

/// Set a profile's KYC state
#[utoipa::path(
    post, path = "/admin/v1/users/{id}/kyc", tag = "admin", operation_id = "setUserKyc",
    params(("id" = String, Path, description = "The user id, or their email.")),
    request_body = SetKyc,
    responses(
        (status = 200, description = "The user with the profile's new state.", body = UserView),
        (status = 400, description = "`invalid_request`: unknown state.", body = ErrorResponse),
        (status = 404, description = "`not_found`: no such user, or no such profile of theirs.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn set_user_kyc() {}

/// Read the audit trail
///
/// Security-relevant events, oldest first, with time, actor, client, user, client IP and
/// outcome; never a secret or a token value. `next_cursor` is present when the page is full.
#[utoipa::path(
    get, path = "/admin/v1/audit", tag = "admin", operation_id = "listAuditEvents",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of events.", body = Page<AuditView>),
        (status = 400, description = "`invalid_request`: unknown event kind, or malformed query string.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn list_audit_events() {}

/// List signing keys
#[utoipa::path(
    get, path = "/admin/v1/keys", tag = "admin", operation_id = "listKeys",
    responses((status = 200, description = "The signing keys and their states.", body = KeyList)),
    security(("oauth2" = ["admin"]))
)]
pub fn list_keys() {}

/// Rotate signing keys
///
/// `portcullis keys rotate` over HTTP: new keys are published at once and sign after the
/// activation delay; the keys they replace stay published until their tokens expire. The body
/// may be empty.
#[utoipa::path(
    post, path = "/admin/v1/keys/rotate", tag = "admin", operation_id = "rotateKeys",
    request_body(content = Option<RotateKeys>, description = "Optional."),
    responses(
        (status = 200, description = "The new keys.", body = RotatedKeys),
        (status = 400, description = "`invalid_request`: unknown algorithm.", body = ErrorResponse),
    ),
    security(("oauth2" = ["admin"]))
)]
pub fn rotate_keys() {}
