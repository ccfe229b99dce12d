//! Client registration rules.

use std::collections::BTreeSet;

use portcullis_proto::{ClientId, ScopeSet, Secret};

use crate::audit::AuditKind;
use crate::client::{
    Client, ClientKind, ClientSecrets, GrantType, PkcePolicy, RedirectUri, RedirectUriError,
    WebOrigin, WebOriginError,
};
use crate::hash::SecretHash;
use crate::keys::SigningAlg;
use crate::random::{RandomError, SecretGenerator, new_secret, new_uuid};
use crate::store::{ClientStore, StoreError};
use crate::time::Clock;

/// Default access-token lifetime: one hour, as the seeds' platforms use.
pub const DEFAULT_ACCESS_TOKEN_TTL: i64 = 3600;
/// Default refresh-token lifetime: 30 days.
pub const DEFAULT_REFRESH_TOKEN_TTL: i64 = 30 * 86_400;
/// Longest refresh-token lifetime.
pub const MAX_REFRESH_TOKEN_TTL: i64 = 365 * 86_400;
/// Shortest token lifetime.
pub const MIN_TOKEN_TTL: i64 = 60;
/// Most redirect URIs a client may register (and, apart, most post-logout redirect URIs and
/// most web origins).
pub const MAX_REDIRECT_URIS: usize = 20;

/// What a new client should be.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// A chosen id (letters, digits, `-._~`); generated when `None`.
    pub id: Option<String>,
    /// Shown on the consent page.
    pub name: String,
    /// Public or confidential.
    pub kind: ClientKind,
    /// Redirect URIs, checked against the registration rules.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs (RP-Initiated Logout 1.0), under the same rules.
    pub post_logout_redirect_uris: Vec<String>,
    /// Web origins allowed to call the token, revocation and userinfo endpoints (CORS).
    pub web_origins: Vec<String>,
    /// Whether every token request must carry a DPoP proof (RFC 9449 §5.2).
    pub dpop_bound_access_tokens: bool,
    /// Whether authorization requests must be pushed first (RFC 9126 §6).
    pub require_pushed_authorization_requests: bool,
    /// The public keys of a `private_key_jwt` client (a JWK Set): it gets no secret.
    pub jwks: Option<serde_json::Value>,
    /// Allowed grants.
    pub grant_types: BTreeSet<GrantType>,
    /// Allowed scopes.
    pub scopes: ScopeSet,
    /// Access-token lifetime in seconds (default one hour).
    pub access_token_ttl: Option<i64>,
    /// Refresh-token lifetime in seconds (default 30 days).
    pub refresh_token_ttl: Option<i64>,
    /// PKCE enforcement.
    pub pkce: PkcePolicy,
    /// Required to register a public client without PKCE: the setting that the Money Button
    /// guide's flow needs and that RFC 9700 §2.1.1 forbids by default.
    pub acknowledge_public_without_pkce: bool,
    /// ID-token algorithm (RS256 unless the client asks for another).
    pub id_token_alg: SigningAlg,
    /// Partner flag.
    pub partner: bool,
    /// Admin flag.
    pub admin: bool,
    /// Logo shown on consent.
    pub logo_uri: Option<String>,
    /// Homepage shown on consent.
    pub homepage_uri: Option<String>,
}

impl NewClient {
    /// A confidential client with the defaults and no redirect URIs or grants yet.
    #[must_use]
    pub fn confidential(name: impl Into<String>) -> Self {
        Self {
            id: None,
            name: name.into(),
            kind: ClientKind::Confidential,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            web_origins: Vec::new(),
            dpop_bound_access_tokens: false,
            require_pushed_authorization_requests: false,
            jwks: None,
            grant_types: BTreeSet::new(),
            scopes: ScopeSet::new(),
            access_token_ttl: None,
            refresh_token_ttl: None,
            pkce: PkcePolicy::default(),
            acknowledge_public_without_pkce: false,
            id_token_alg: SigningAlg::Rs256,
            partner: false,
            admin: false,
            logo_uri: None,
            homepage_uri: None,
        }
    }
}

/// Why a client registration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClientRuleError {
    /// The admin client calling would delete itself or take away its own admin access: the
    /// platform could lose its last way into the admin API.
    #[error(
        "an admin client cannot delete itself or take away its own admin access (disable, \
         admin, scope or client_credentials); use another admin client or the CLI"
    )]
    SelfLockout,
    /// Empty or over-long name.
    #[error("a client needs a name of 1 to 100 characters")]
    Name,
    /// Chosen id with characters outside `A-Z a-z 0-9 - . _ ~`.
    #[error("client id {0:?} must be 1 to 64 characters from A-Z, a-z, 0-9, '-', '.', '_' and '~'")]
    Id(String),
    /// A redirect URI broke a rule.
    #[error(transparent)]
    RedirectUri(#[from] RedirectUriError),
    /// Too many redirect URIs (or post-logout redirect URIs, or web origins).
    #[error("a client may register at most {MAX_REDIRECT_URIS} {0}")]
    TooManyRedirectUris(&'static str),
    /// A web origin broke a rule.
    #[error(transparent)]
    WebOrigin(#[from] WebOriginError),
    /// Authorization code without a redirect URI.
    #[error("the authorization_code grant needs at least one redirect URI")]
    NoRedirectUri,
    /// Refresh tokens are only issued through the authorization code grant.
    #[error("the refresh_token grant needs the authorization_code grant")]
    RefreshWithoutCode,
    /// No grant at all.
    #[error("a client needs at least one grant type")]
    NoGrant,
    /// A public client cannot authenticate for client credentials.
    #[error("a public client cannot use client_credentials: it has no secret")]
    PublicClientCredentials,
    /// Partner and admin need client credentials.
    #[error("{0} clients must be confidential and allowed client_credentials")]
    NeedsClientCredentials(&'static str),
    /// Public client without PKCE, not acknowledged.
    #[error(
        "a public client without PKCE lets anyone who intercepts a code redeem it; \
         acknowledge the risk explicitly to register it (see docs/security.md)"
    )]
    PublicWithoutPkce,
    /// Lifetime out of bounds.
    #[error("{what} must be between {min} and {max} seconds")]
    Ttl {
        /// Which lifetime.
        what: &'static str,
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
    },
    /// A logo or homepage that is not https.
    #[error("{0} must be an https URL")]
    DisplayUri(&'static str),
    /// The chosen id exists.
    #[error("a client with id {0:?} already exists")]
    Exists(String),
    /// A field holds an unknown name.
    #[error("{0}")]
    Field(String),
    /// No such client.
    #[error("no client with id {0:?}")]
    NotFound(String),
    /// Scopes missing from the registry.
    #[error("unknown scope(s) {0}: add them to the scope registry first")]
    UnknownScopes(String),
    /// Public clients have no secret.
    #[error("a public client has no secret to rotate")]
    PublicHasNoSecret,
    /// The key set of a `private_key_jwt` client is not acceptable.
    #[error(transparent)]
    Jwks(#[from] crate::oauth::assertion::KeySetError),
    /// A `private_key_jwt` client has no secret to rotate.
    #[error(
        "this client authenticates with its registered keys (private_key_jwt): it has no secret \
         to rotate; update its keys instead"
    )]
    KeysHaveNoSecret,
    /// Keys were given for a public client.
    #[error("a public client cannot register keys: private_key_jwt is for confidential clients")]
    PublicWithKeys,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

impl From<StoreError> for ClientRuleError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// A redirect URI as registration reads it: [`RedirectUri::parse`], except that an absolute URI
/// of another scheme (`javascript:`, `data:`, `file:`, a custom scheme) is refused for its
/// scheme, which is what is wrong with it, rather than as "not an absolute URI".
fn redirect_uri(raw: &str) -> Result<RedirectUri, RedirectUriError> {
    match RedirectUri::parse(raw) {
        Err(RedirectUriError::NotAbsolute(_))
            if url::Url::parse(raw).is_ok_and(|u| !matches!(u.scheme(), "http" | "https")) =>
        {
            Err(RedirectUriError::Scheme(raw.to_owned()))
        }
        other => other,
    }
}

fn redirect_uris(raw: &[String]) -> Result<Vec<RedirectUri>, RedirectUriError> {
    raw.iter().map(|u| redirect_uri(u)).collect()
}

fn web_origins(raw: &[String]) -> Result<Vec<WebOrigin>, WebOriginError> {
    let mut origins = raw
        .iter()
        .map(|o| WebOrigin::parse(o))
        .collect::<Result<Vec<_>, _>>()?;
    origins.sort();
    origins.dedup();
    Ok(origins)
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn check_ttl(value: i64, what: &'static str, max: i64) -> Result<i64, ClientRuleError> {
    if (MIN_TOKEN_TTL..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ClientRuleError::Ttl {
            what,
            min: MIN_TOKEN_TTL,
            max,
        })
    }
}

fn check_display_uri(
    uri: Option<&String>,
    what: &'static str,
) -> Result<Option<String>, ClientRuleError> {
    match uri {
        None => Ok(None),
        Some(u) if url::Url::parse(u).is_ok_and(|p| p.scheme() == "https") => Ok(Some(u.clone())),
        Some(_) => Err(ClientRuleError::DisplayUri(what)),
    }
}

/// Checks the rules that tie a client's settings together. Used at creation and at every
/// update, so no sequence of changes reaches a state creation would refuse.
///
/// # Errors
/// The first rule broken.
pub fn check_rules(
    client: &Client,
    acknowledged_public_without_pkce: bool,
    max_access_ttl: i64,
) -> Result<(), ClientRuleError> {
    let name = client.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ClientRuleError::Name);
    }
    if client.grant_types.is_empty() {
        return Err(ClientRuleError::NoGrant);
    }
    for (count, what) in [
        (client.redirect_uris.len(), "redirect URIs"),
        (
            client.post_logout_redirect_uris.len(),
            "post-logout redirect URIs",
        ),
        (client.web_origins.len(), "web origins"),
    ] {
        if count > MAX_REDIRECT_URIS {
            return Err(ClientRuleError::TooManyRedirectUris(what));
        }
    }
    let code = client.allows_grant(GrantType::AuthorizationCode);
    if code && client.redirect_uris.is_empty() {
        return Err(ClientRuleError::NoRedirectUri);
    }
    if client.allows_grant(GrantType::RefreshToken) && !code {
        return Err(ClientRuleError::RefreshWithoutCode);
    }
    let public = client.kind == ClientKind::Public;
    let credentials = client.allows_grant(GrantType::ClientCredentials);
    // The flags first: a public admin or partner client is refused for what it asked to be,
    // not for the client credentials grant its flag implies.
    for (flag, name) in [(client.partner, "partner"), (client.admin, "admin")] {
        if flag && (public || !credentials) {
            return Err(ClientRuleError::NeedsClientCredentials(name));
        }
    }
    if public && credentials {
        return Err(ClientRuleError::PublicClientCredentials);
    }
    if public && client.pkce == PkcePolicy::Optional && !acknowledged_public_without_pkce {
        return Err(ClientRuleError::PublicWithoutPkce);
    }
    check_ttl(client.access_token_ttl, "access_token_ttl", max_access_ttl)?;
    check_ttl(
        client.refresh_token_ttl,
        "refresh_token_ttl",
        MAX_REFRESH_TOKEN_TTL,
    )?;
    check_display_uri(client.logo_uri.as_ref(), "logo_uri")?;
    check_display_uri(client.homepage_uri.as_ref(), "homepage_uri")?;
    Ok(())
}

/// Registers a client. Returns it and, for a confidential client, its secret: the only time
/// the secret exists outside the caller's hands, since only its digest is stored.
///
/// # Errors
/// See [`ClientRuleError`].
pub async fn create(
    store: &dyn ClientStore,
    clock: &dyn Clock,
    random: &dyn SecretGenerator,
    new: NewClient,
    max_access_ttl: i64,
) -> Result<(Client, Option<Secret>), ClientRuleError> {
    let id = match new.id {
        Some(id) if valid_id(&id) => id,
        Some(id) => return Err(ClientRuleError::Id(id)),
        None => new_uuid(random, clock.now_millis())?,
    };
    let redirect_uris = redirect_uris(&new.redirect_uris)?;
    let post_logout_redirect_uris = self::redirect_uris(&new.post_logout_redirect_uris)?;
    let web_origins = web_origins(&new.web_origins)?;
    if let Some(jwks) = &new.jwks {
        if new.kind == ClientKind::Public {
            return Err(ClientRuleError::PublicWithKeys);
        }
        crate::oauth::assertion::check_key_set(jwks)?;
    }
    // A client with keys authenticates with them: it has no secret to leak or downgrade to.
    let secret = match new.kind {
        ClientKind::Confidential if new.jwks.is_none() => Some(new_secret(random)?),
        ClientKind::Confidential | ClientKind::Public => None,
    };
    let now = clock.now();
    let client = Client {
        id: ClientId::new(id),
        name: new.name.trim().to_owned(),
        kind: new.kind,
        secrets: ClientSecrets {
            current: secret.as_ref().map(|s| SecretHash::of(s.expose())),
            previous: None,
        },
        redirect_uris,
        post_logout_redirect_uris,
        web_origins,
        dpop_bound_access_tokens: new.dpop_bound_access_tokens,
        require_pushed_authorization_requests: new.require_pushed_authorization_requests,
        jwks: new.jwks,
        grant_types: new.grant_types,
        scopes: new.scopes,
        access_token_ttl: new.access_token_ttl.unwrap_or(DEFAULT_ACCESS_TOKEN_TTL),
        refresh_token_ttl: new.refresh_token_ttl.unwrap_or(DEFAULT_REFRESH_TOKEN_TTL),
        pkce: new.pkce,
        id_token_alg: new.id_token_alg,
        partner: new.partner,
        admin: new.admin,
        enabled: true,
        logo_uri: new.logo_uri,
        homepage_uri: new.homepage_uri,
        created_at: now,
        updated_at: now,
    };
    check_rules(&client, new.acknowledge_public_without_pkce, max_access_ttl)?;
    match store.insert_client(&client).await {
        Ok(()) => Ok((client, secret)),
        Err(StoreError::Conflict(_)) => Err(ClientRuleError::Exists(client.id.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Changes to a client; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct ClientChanges {
    /// New name.
    pub name: Option<String>,
    /// New redirect URIs (replacing all).
    pub redirect_uris: Option<Vec<String>>,
    /// New post-logout redirect URIs (replacing all).
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// New web origins (replacing all).
    pub web_origins: Option<Vec<String>>,
    /// Whether every token request must carry a DPoP proof.
    pub dpop_bound_access_tokens: Option<bool>,
    /// Whether authorization requests must be pushed first.
    pub require_pushed_authorization_requests: Option<bool>,
    /// New keys of a `private_key_jwt` client (replacing all; its secret, if any, stops
    /// working).
    pub jwks: Option<serde_json::Value>,
    /// New grants.
    pub grant_types: Option<BTreeSet<GrantType>>,
    /// New scopes.
    pub scopes: Option<ScopeSet>,
    /// New access-token lifetime.
    pub access_token_ttl: Option<i64>,
    /// New refresh-token lifetime.
    pub refresh_token_ttl: Option<i64>,
    /// New PKCE policy.
    pub pkce: Option<PkcePolicy>,
    /// Acknowledges a public client without PKCE.
    pub acknowledge_public_without_pkce: bool,
    /// New ID-token algorithm.
    pub id_token_alg: Option<SigningAlg>,
    /// Partner flag.
    pub partner: Option<bool>,
    /// Admin flag.
    pub admin: Option<bool>,
    /// Enabled flag.
    pub enabled: Option<bool>,
    /// Logo (`Some(None)` removes it).
    pub logo_uri: Option<Option<String>>,
    /// Homepage (`Some(None)` removes it).
    pub homepage_uri: Option<Option<String>>,
}

/// A client's scopes must all be registered.
fn check_scopes(admin: &super::Admin<'_>, scopes: &ScopeSet) -> Result<(), ClientRuleError> {
    let unknown = admin.scopes.unknown(scopes);
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ClientRuleError::UnknownScopes(unknown.join(" ")))
    }
}

/// Registers a client, checking its scopes against the registry, and records it.
///
/// # Errors
/// See [`ClientRuleError`].
pub async fn register(
    admin: &super::Admin<'_>,
    new: NewClient,
) -> Result<(Client, Option<Secret>), ClientRuleError> {
    check_scopes(admin, &new.scopes)?;
    let (client, secret) = create(
        admin.store,
        admin.clock,
        admin.random,
        new,
        admin.max_access_ttl,
    )
    .await?;
    admin.audit.record(
        admin
            .event(AuditKind::ClientCreated)
            .client(&client.id)
            .detail(serde_json::json!({ "name": client.name, "public": client.kind == ClientKind::Public })),
    );
    Ok((client, secret))
}

/// The client with this id.
///
/// # Errors
/// [`ClientRuleError::NotFound`], storage failures.
pub async fn get(admin: &super::Admin<'_>, id: &str) -> Result<Client, ClientRuleError> {
    admin
        .store
        .client(&ClientId::new(id))
        .await?
        .ok_or_else(|| ClientRuleError::NotFound(id.to_owned()))
}

/// Applies `changes` under the same rules as registration.
///
/// # Errors
/// See [`ClientRuleError`].
pub async fn update(
    admin: &super::Admin<'_>,
    id: &str,
    changes: ClientChanges,
) -> Result<Client, ClientRuleError> {
    let mut client = get(admin, id).await?;
    let mut changed: Vec<&str> = Vec::new();
    if let Some(name) = changes.name {
        client.name = name.trim().to_owned();
        changed.push("name");
    }
    if let Some(uris) = changes.redirect_uris {
        client.redirect_uris = redirect_uris(&uris)?;
        changed.push("redirect_uris");
    }
    if let Some(uris) = changes.post_logout_redirect_uris {
        client.post_logout_redirect_uris = redirect_uris(&uris)?;
        changed.push("post_logout_redirect_uris");
    }
    if let Some(origins) = changes.web_origins {
        client.web_origins = web_origins(&origins)?;
        changed.push("web_origins");
    }
    if let Some(bound) = changes.dpop_bound_access_tokens {
        client.dpop_bound_access_tokens = bound;
        changed.push("dpop_bound_access_tokens");
    }
    if let Some(jwks) = changes.jwks {
        if client.kind == ClientKind::Public {
            return Err(ClientRuleError::PublicWithKeys);
        }
        crate::oauth::assertion::check_key_set(&jwks)?;
        client.jwks = Some(jwks);
        client.secrets = ClientSecrets::default();
        changed.push("jwks");
    }
    if let Some(pushed) = changes.require_pushed_authorization_requests {
        client.require_pushed_authorization_requests = pushed;
        changed.push("require_pushed_authorization_requests");
    }
    if let Some(grants) = changes.grant_types {
        client.grant_types = grants;
        changed.push("grant_types");
    }
    if let Some(scopes) = changes.scopes {
        check_scopes(admin, &scopes)?;
        client.scopes = scopes;
        changed.push("scopes");
    }
    if let Some(ttl) = changes.access_token_ttl {
        client.access_token_ttl = ttl;
        changed.push("access_token_ttl");
    }
    if let Some(ttl) = changes.refresh_token_ttl {
        client.refresh_token_ttl = ttl;
        changed.push("refresh_token_ttl");
    }
    if let Some(pkce) = changes.pkce {
        client.pkce = pkce;
        changed.push("pkce");
    }
    if let Some(alg) = changes.id_token_alg {
        client.id_token_alg = alg;
        changed.push("id_token_alg");
    }
    for (value, field, name) in [
        (changes.partner, &mut client.partner, "partner"),
        (changes.admin, &mut client.admin, "admin"),
        (changes.enabled, &mut client.enabled, "enabled"),
    ] {
        if let Some(value) = value {
            *field = value;
            changed.push(name);
        }
    }
    if let Some(logo) = changes.logo_uri {
        client.logo_uri = logo;
        changed.push("logo_uri");
    }
    if let Some(homepage) = changes.homepage_uri {
        client.homepage_uri = homepage;
        changed.push("homepage_uri");
    }
    // An empty patch changes nothing: no write, no new `updated_at`, no audit event.
    if changed.is_empty() {
        return Ok(client);
    }
    // An already-acknowledged public client without PKCE stays valid when other fields change.
    let acknowledged = changes.acknowledge_public_without_pkce
        || (client.pkce == PkcePolicy::Optional && !changed.contains(&"pkce"));
    check_rules(&client, acknowledged, admin.max_access_ttl)?;
    if is_caller(admin, &client.id) && !keeps_admin_access(&client) {
        return Err(ClientRuleError::SelfLockout);
    }
    client.updated_at = admin.clock.now();
    if !admin.store.update_client(&client).await? {
        return Err(ClientRuleError::NotFound(id.to_owned()));
    }
    admin.audit.record(
        admin
            .event(AuditKind::ClientUpdated)
            .client(&client.id)
            .detail(serde_json::json!({ "changed": changed })),
    );
    Ok(client)
}

/// Replaces the client's secret. With `grace`, the old secret keeps working that many seconds,
/// so the integrator can deploy the new one without downtime; without, it stops at once.
///
/// # Errors
/// [`ClientRuleError::NotFound`], [`ClientRuleError::PublicHasNoSecret`],
/// [`ClientRuleError::KeysHaveNoSecret`], storage failures.
pub async fn rotate_secret(
    admin: &super::Admin<'_>,
    id: &str,
    grace: Option<i64>,
) -> Result<(Client, Secret), ClientRuleError> {
    let mut client = get(admin, id).await?;
    if client.kind == ClientKind::Public {
        return Err(ClientRuleError::PublicHasNoSecret);
    }
    // A client that registered keys never authenticates with a secret: one would only sit there.
    if client.jwks.is_some() {
        return Err(ClientRuleError::KeysHaveNoSecret);
    }
    let secret = new_secret(admin.random)?;
    let now = admin.clock.now();
    client.secrets.previous = match (grace.filter(|g| *g > 0), client.secrets.current.take()) {
        (Some(grace), Some(old)) => Some((old, now.plus(grace))),
        _ => None,
    };
    client.secrets.current = Some(SecretHash::of(secret.expose()));
    client.updated_at = now;
    // Deleted meanwhile: the new secret would belong to nothing.
    if !admin.store.update_client(&client).await? {
        return Err(ClientRuleError::NotFound(id.to_owned()));
    }
    admin.audit.record(
        admin
            .event(AuditKind::ClientSecretRotated)
            .client(&client.id)
            .detail(serde_json::json!({ "grace_seconds": grace.unwrap_or(0) })),
    );
    Ok((client, secret))
}

/// Whether `client` is the admin API client making this call (the CLI is no client).
fn is_caller(admin: &super::Admin<'_>, client: &ClientId) -> bool {
    admin
        .actor
        .strip_prefix("client:")
        .is_some_and(|caller| caller == client.as_str())
}

/// Whether `client` can still get an admin token and use it.
fn keeps_admin_access(client: &Client) -> bool {
    client.admin
        && client.enabled
        && client.allows_grant(GrantType::ClientCredentials)
        && client.scopes.contains(crate::scopes::ADMIN_SCOPE)
}

/// Deletes a client and everything issued to it.
///
/// # Errors
/// [`ClientRuleError::NotFound`], storage failures.
pub async fn delete(admin: &super::Admin<'_>, id: &str) -> Result<(), ClientRuleError> {
    let client = ClientId::new(id);
    if is_caller(admin, &client) {
        return Err(ClientRuleError::SelfLockout);
    }
    if !admin.store.delete_client(&client).await? {
        return Err(ClientRuleError::NotFound(id.to_owned()));
    }
    admin
        .audit
        .record(admin.event(AuditKind::ClientDeleted).client(&client));
    Ok(())
}
