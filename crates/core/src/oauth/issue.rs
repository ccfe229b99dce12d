//! Signing access tokens (RFC 9068) and ID tokens (OpenID Connect Core §2).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_proto::{ClientId, GrantId, ProfileId, ScopeSet, Secret, UserId};
use serde::{Deserialize, Serialize};

use super::{Context, TokenError, claims};
use crate::client::Client;
use crate::jwt::{self, JwtKind};
use crate::keys::SigningAlg;
use crate::random::new_secret;
use crate::time::UnixTime;
use crate::user::User;

/// The claims of an access token (RFC 9068 §2.2), plus `profile` when the grant is bound to
/// a profile and `gid`, the grant, so that revoking the grant makes the token inactive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// Issuer.
    pub iss: String,
    /// The user, or the client itself for client credentials.
    pub sub: String,
    /// The resource servers that accept it.
    pub aud: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Space-delimited scope.
    pub scope: String,
    /// Expiry.
    pub exp: i64,
    /// Issue time.
    pub iat: i64,
    /// Unique id (for revocation).
    pub jti: String,
    /// When the user authenticated.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_time: Option<i64>,
    /// The profile the token acts for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub profile: Option<String>,
    /// The grant the token belongs to (user tokens).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gid: Option<String>,
    /// The key the token is bound to (RFC 9449 §6.1): only a DPoP proof signed with it makes
    /// the token usable.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cnf: Option<Confirmation>,
}

/// The `cnf` claim of a sender-constrained token (RFC 7800 §3.1, RFC 9449 §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The JWK SHA-256 thumbprint of the DPoP key.
    pub jkt: String,
}

impl AccessTokenClaims {
    /// The scope as a set (an unparseable scope is empty: it grants nothing).
    #[must_use]
    pub fn scopes(&self) -> ScopeSet {
        ScopeSet::parse(&self.scope).unwrap_or_default()
    }

    /// Whether the token is the client's own (client credentials) rather than a user's.
    #[must_use]
    pub fn is_client_token(&self) -> bool {
        self.gid.is_none()
    }

    /// The thumbprint of the DPoP key the token is bound to, if it is.
    #[must_use]
    pub fn jkt(&self) -> Option<&str> {
        self.cnf.as_ref().map(|c| c.jkt.as_str())
    }
}

/// Whom an access token is about.
#[derive(Debug, Clone)]
pub enum Subject {
    /// The client itself (client credentials).
    Client,
    /// A user, through a grant.
    User {
        /// The user.
        user: UserId,
        /// The grant.
        grant: GrantId,
        /// The profile bound to the grant.
        profile: Option<ProfileId>,
        /// When the user authenticated.
        auth_time: UnixTime,
    },
}

/// What the token endpoint returns, before the HTTP layer shapes it.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The signed access token.
    pub access_token: Secret,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// A refresh token, when the client may have one.
    pub refresh_token: Option<Secret>,
    /// The scope actually granted.
    pub scope: ScopeSet,
    /// An ID token, when `openid` was granted at an authorization code exchange.
    pub id_token: Option<Secret>,
    /// The user, for user tokens (compatibility profiles return it).
    pub user: Option<UserId>,
    /// The profile, when the grant is bound to one.
    pub profile: Option<ProfileId>,
    /// The client.
    pub client_id: ClientId,
    /// The DPoP key the access token is bound to, if it is.
    pub jkt: Option<String>,
}

impl Issued {
    /// The `token_type` of the response: `DPoP` for a bound token (RFC 9449 §5.1).
    #[must_use]
    pub fn token_type(&self) -> &'static str {
        if self.jkt.is_some() { "DPoP" } else { "Bearer" }
    }
}

/// Signs an access token for `client` about `subject` with `scope`, bound to the DPoP key
/// `jkt` when there is one.
///
/// # Errors
/// When no key signs with the configured algorithm, or signing fails.
pub fn access_token(
    ctx: &Context<'_>,
    client: &Client,
    subject: &Subject,
    scope: &ScopeSet,
    jkt: Option<&str>,
) -> Result<(Secret, i64), TokenError> {
    let alg = ctx.settings.access_token_alg;
    let key = ctx
        .keys
        .signer(alg, ctx.clock.now())
        .ok_or(TokenError::NoSigningKey(alg))?;
    let now = ctx.clock.now();
    let ttl = client.access_token_ttl;
    let jti = new_secret(ctx.random)?.expose()[..22].to_owned();
    let (sub, auth_time, profile, gid) = match subject {
        Subject::Client => (client.id.to_string(), None, None, None),
        Subject::User {
            user,
            grant,
            profile,
            auth_time,
        } => (
            user.to_string(),
            Some(auth_time.0),
            profile.as_ref().map(ToString::to_string),
            Some(grant.to_string()),
        ),
    };
    let claims = AccessTokenClaims {
        iss: ctx.settings.issuer.clone(),
        sub,
        aud: ctx.settings.audience.clone(),
        client_id: client.id.to_string(),
        scope: scope.to_string(),
        exp: now.plus(ttl).0,
        iat: now.0,
        jti,
        auth_time,
        profile,
        gid,
        cnf: jkt.map(|jkt| Confirmation {
            jkt: jkt.to_owned(),
        }),
    };
    Ok((
        Secret::new(jwt::sign(key, JwtKind::AccessToken, &claims)?),
        ttl,
    ))
}

/// Claims of an ID token (OpenID Connect Core §2, §3.1.3.6).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// The user.
    pub sub: String,
    /// The client.
    pub aud: String,
    /// Authorized party: the client.
    pub azp: String,
    /// Expiry.
    pub exp: i64,
    /// Issue time.
    pub iat: i64,
    /// When the user authenticated.
    pub auth_time: i64,
    /// The nonce of the authorization request.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nonce: Option<String>,
    /// Left half of the access token's hash (§3.1.3.6).
    pub at_hash: String,
    /// The browser session the user authenticated in (OpenID Connect Front-Channel Logout
    /// §3): RP-initiated logout compares it with the session it is asked to end.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
    /// The standard claims the granted scope releases ([`claims::release`]): the same as
    /// userinfo answers, so that clients that read only the ID token get them too.
    #[serde(flatten)]
    pub standard: claims::StandardClaims,
}

/// The longest an ID token lives: it is checked once, at login.
pub const ID_TOKEN_MAX_TTL: i64 = 3600;

/// `at_hash`: the left half of the access token's hash, with the hash that goes with the
/// signing algorithm (SHA-512 for Ed25519, SHA-256 for the others).
#[must_use]
pub fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    use aws_lc_rs::digest;
    let algorithm = match alg {
        SigningAlg::EdDsa => &digest::SHA512,
        SigningAlg::Es256 | SigningAlg::Ps256 | SigningAlg::Rs256 => &digest::SHA256,
    };
    let hash = digest::digest(algorithm, access_token.as_bytes());
    let bytes = hash.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

/// The authentication an ID token reports.
#[derive(Debug, Clone, Copy)]
pub struct Authentication<'a> {
    /// When the user authenticated.
    pub auth_time: UnixTime,
    /// The authorization request's nonce.
    pub nonce: Option<&'a str>,
    /// The session's id for relying parties ([`crate::session::sid`]).
    pub sid: Option<&'a str>,
}

/// Signs an ID token for `user` with the client's ID-token algorithm.
///
/// # Errors
/// When no key signs with that algorithm, or signing fails.
pub fn id_token(
    ctx: &Context<'_>,
    client: &Client,
    user: &User,
    authentication: Authentication<'_>,
    scope: &ScopeSet,
    access_token: &Secret,
) -> Result<Secret, TokenError> {
    let alg = client.id_token_alg;
    let key = ctx
        .keys
        .signer(alg, ctx.clock.now())
        .ok_or(TokenError::NoSigningKey(alg))?;
    let now = ctx.clock.now();
    let claims = IdTokenClaims {
        iss: ctx.settings.issuer.clone(),
        sub: user.id.to_string(),
        aud: client.id.to_string(),
        azp: client.id.to_string(),
        exp: now.plus(client.access_token_ttl.min(ID_TOKEN_MAX_TTL)).0,
        iat: now.0,
        auth_time: authentication.auth_time.0,
        nonce: authentication.nonce.map(str::to_owned),
        at_hash: at_hash(alg, access_token.expose()),
        sid: authentication.sid.map(str::to_owned),
        standard: claims::release(user, scope),
    };
    Ok(Secret::new(jwt::sign(key, JwtKind::Jwt, &claims)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of OpenID Connect Core §A.3 (RS256 and SHA-256).
    #[test]
    fn at_hash_matches_the_spec_example() {
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(at_hash(SigningAlg::Rs256, token), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
