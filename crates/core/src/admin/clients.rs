//! Client registration rules.

use std::collections::BTreeSet;

use portcullis_proto::{ClientId, ScopeSet, Secret};

use crate::client::{
    Client, ClientKind, ClientSecrets, GrantType, PkcePolicy, RedirectUri, RedirectUriError,
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
/// Most redirect URIs a client may register.
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
    /// Empty or over-long name.
    #[error("a client needs a name of 1 to 100 characters")]
    Name,
    /// Chosen id with characters outside `A-Z a-z 0-9 - . _ ~`.
    #[error("client id {0:?} must be 1 to 64 characters from A-Z, a-z, 0-9, '-', '.', '_' and '~'")]
    Id(String),
    /// A redirect URI broke a rule.
    #[error(transparent)]
    RedirectUri(#[from] RedirectUriError),
    /// Too many redirect URIs.
    #[error("a client may register at most {MAX_REDIRECT_URIS} redirect URIs")]
    TooManyRedirectUris,
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
    if client.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(ClientRuleError::TooManyRedirectUris);
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
    if public && credentials {
        return Err(ClientRuleError::PublicClientCredentials);
    }
    for (flag, name) in [(client.partner, "partner"), (client.admin, "admin")] {
        if flag && (public || !credentials) {
            return Err(ClientRuleError::NeedsClientCredentials(name));
        }
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
    let redirect_uris = new
        .redirect_uris
        .iter()
        .map(|u| RedirectUri::parse(u))
        .collect::<Result<Vec<_>, _>>()?;
    let secret = match new.kind {
        ClientKind::Confidential => Some(new_secret(random)?),
        ClientKind::Public => None,
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
