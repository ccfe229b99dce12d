use portcullis_proto::ErrorCode;

use crate::client::GrantType;
use crate::jwt::JwtError;
use crate::random::RandomError;
use crate::store::StoreError;

/// Why a request to the token, introspection or revocation endpoint was refused. Each variant
/// knows its RFC 6749 §5.2 error code.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// A required parameter is missing.
    #[error("missing required parameter {0}")]
    MissingParameter(&'static str),
    /// A parameter is malformed, repeated, or the body cannot be read.
    #[error("{0}")]
    Malformed(String),
    /// The request used more than one client authentication method (RFC 6749 §2.3).
    #[error("use exactly one client authentication method")]
    MultipleAuthMethods,
    /// Client authentication failed; `basic` tells whether HTTP Basic was attempted.
    #[error("client authentication failed")]
    ClientAuthFailed {
        /// HTTP Basic was used: the response carries `WWW-Authenticate`.
        basic: bool,
    },
    /// The grant type is unknown. The description names the supported ones, never the value
    /// sent (RFC 6749 §5.2 descriptions echo no request input).
    #[error(
        "this grant_type is not supported; use authorization_code, refresh_token or client_credentials"
    )]
    UnsupportedGrant,
    /// The client is not allowed this grant.
    #[error("this client is not allowed the {0} grant")]
    GrantNotAllowed(GrantType),
    /// The `scope` parameter does not follow RFC 6749 §3.3 (`scope-token *( SP scope-token )`).
    #[error(
        "scope is malformed: it must be space-separated tokens of printable ASCII without quotes or backslashes"
    )]
    ScopeMalformed,
    /// A requested scope is outside what the client may have.
    #[error("a requested scope is not allowed for this client")]
    ScopeNotAllowed,
    /// A refresh asked for more than the grant holds.
    #[error("the requested scope exceeds the scope originally granted")]
    ScopeExceedsGrant,
    /// The code is unknown, expired or belongs to another client.
    #[error("the authorization code is invalid, expired, or was issued to another client")]
    CodeInvalid,
    /// The code was redeemed before; what that redemption issued is now revoked.
    #[error("the authorization code was already used; tokens issued with it are revoked")]
    CodeAlreadyRedeemed,
    /// `redirect_uri` differs from the authorization request's.
    #[error("redirect_uri does not match the one of the authorization request")]
    RedirectUriMismatch,
    /// The code was issued with a PKCE challenge and no verifier came.
    #[error("code_verifier is required for this code")]
    PkceVerifierMissing,
    /// The verifier does not answer the challenge.
    #[error("code_verifier does not match the code_challenge")]
    PkceVerifierMismatch,
    /// A verifier came for a code issued without a challenge (a PKCE downgrade, RFC 9700 §4.8.2).
    #[error("code_verifier sent for a code issued without code_challenge")]
    PkceUnexpectedVerifier,
    /// The refresh token is unknown, expired, revoked or belongs to another client.
    #[error("the refresh token is invalid, expired, revoked, or was issued to another client")]
    RefreshTokenInvalid,
    /// A rotated refresh token came back: the whole grant is revoked (RFC 9700 §4.14.2).
    #[error("the refresh token was already used; the grant is revoked")]
    RefreshTokenReused,
    /// The user behind the grant can no longer use it.
    #[error("the user of this grant is disabled or no longer exists")]
    UserUnavailable,
    /// The DPoP proof was refused, or a fresh nonce is needed (RFC 9449 §5, §8).
    #[error(transparent)]
    Dpop(#[from] crate::oauth::dpop::DpopError),
    /// No DPoP proof came from a client registered with `dpop_bound_access_tokens`.
    #[error("a DPoP proof is required: this client is registered with dpop_bound_access_tokens")]
    DpopRequired,
    /// No DPoP proof came for a code or refresh token (named) that is bound to a key.
    #[error("this {0} is bound to a DPoP key: send a DPoP proof signed with it")]
    DpopUnproven(&'static str),
    /// The proof is of another key than the one the code or refresh token is bound to.
    #[error("the DPoP proof is not signed with the key this {0} is bound to")]
    DpopKeyMismatch(&'static str),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No key signs with the needed algorithm.
    #[error("no active {0} signing key")]
    NoSigningKey(crate::keys::SigningAlg),
    /// Signing failed.
    #[error(transparent)]
    Jwt(#[from] JwtError),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

impl TokenError {
    /// The RFC 6749 §5.2 error code.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::MissingParameter(_) | Self::Malformed(_) | Self::MultipleAuthMethods => {
                ErrorCode::InvalidRequest
            }
            Self::ClientAuthFailed { .. } => ErrorCode::InvalidClient,
            Self::UnsupportedGrant => ErrorCode::UnsupportedGrantType,
            Self::GrantNotAllowed(_) => ErrorCode::UnauthorizedClient,
            Self::ScopeMalformed | Self::ScopeNotAllowed | Self::ScopeExceedsGrant => {
                ErrorCode::InvalidScope
            }
            Self::CodeInvalid
            | Self::CodeAlreadyRedeemed
            | Self::RedirectUriMismatch
            | Self::PkceVerifierMissing
            | Self::PkceVerifierMismatch
            | Self::PkceUnexpectedVerifier
            | Self::RefreshTokenInvalid
            | Self::RefreshTokenReused
            | Self::UserUnavailable
            | Self::DpopKeyMismatch(_) => ErrorCode::InvalidGrant,
            Self::Dpop(crate::oauth::dpop::DpopError::UseNonce(_)) => ErrorCode::UseDpopNonce,
            Self::Dpop(_) | Self::DpopRequired | Self::DpopUnproven(_) => {
                ErrorCode::InvalidDpopProof
            }
            Self::Store(StoreError::Unavailable(_)) => ErrorCode::TemporarilyUnavailable,
            Self::Store(_) | Self::NoSigningKey(_) | Self::Jwt(_) | Self::Random(_) => {
                ErrorCode::ServerError
            }
        }
    }
}
