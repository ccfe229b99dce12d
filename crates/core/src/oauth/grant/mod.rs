//! The grants of the token endpoint (RFC 6749 §4.1.3, §4.4, §6).

mod authorization_code;
mod client_credentials;
mod refresh_token;

use portcullis_proto::Secret;
use portcullis_proto::token::TokenRequest;

use super::client_auth::AuthenticatedClient;
use super::dpop::Proof;
use super::issue::Issued;
use super::{Context, TokenError};
use crate::audit::AuditKind;
use crate::client::GrantType;

/// A token request, checked for the parameters its grant needs.
#[derive(Debug, Clone)]
pub enum GrantRequest {
    /// RFC 6749 §4.1.3.
    AuthorizationCode {
        /// The code.
        code: Secret,
        /// The redirect URI, if sent.
        redirect_uri: Option<String>,
        /// The PKCE verifier, if sent.
        code_verifier: Option<Secret>,
    },
    /// RFC 6749 §6.
    RefreshToken {
        /// The refresh token.
        refresh_token: Secret,
        /// A narrower scope, if asked for.
        scope: Option<String>,
    },
    /// RFC 6749 §4.4.
    ClientCredentials {
        /// The scope asked for.
        scope: Option<String>,
    },
}

impl GrantRequest {
    /// The grant type.
    #[must_use]
    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
            Self::ClientCredentials { .. } => GrantType::ClientCredentials,
        }
    }

    /// Reads the grant from the request's parameters. Empty parameters count as absent
    /// (RFC 6749 §3.1).
    ///
    /// # Errors
    /// [`TokenError::MissingParameter`] or [`TokenError::UnsupportedGrant`].
    pub fn parse(request: TokenRequest) -> Result<Self, TokenError> {
        let text = |v: Option<String>| v.filter(|s| !s.is_empty());
        let secret = |v: Option<Secret>| v.filter(|s| !s.is_empty());
        let grant_type =
            text(request.grant_type).ok_or(TokenError::MissingParameter("grant_type"))?;
        match grant_type.as_str() {
            "authorization_code" => Ok(Self::AuthorizationCode {
                code: secret(request.code).ok_or(TokenError::MissingParameter("code"))?,
                redirect_uri: text(request.redirect_uri),
                code_verifier: secret(request.code_verifier),
            }),
            "refresh_token" => Ok(Self::RefreshToken {
                refresh_token: secret(request.refresh_token)
                    .ok_or(TokenError::MissingParameter("refresh_token"))?,
                scope: text(request.scope),
            }),
            "client_credentials" => Ok(Self::ClientCredentials {
                scope: text(request.scope),
            }),
            _ => Err(TokenError::UnsupportedGrant),
        }
    }
}

/// Runs a grant for an authenticated client. With a DPoP `proof` (already accepted, see
/// [`super::dpop::accept`]) the access token is bound to the proof's key.
///
/// # Errors
/// [`TokenError::GrantNotAllowed`] when the client may not use the grant,
/// [`TokenError::DpopRequired`] when the client must send a proof and did not, otherwise the
/// grant's own errors.
pub async fn exchange(
    ctx: &Context<'_>,
    client: &AuthenticatedClient,
    request: GrantRequest,
    proof: Option<&Proof>,
) -> Result<Issued, TokenError> {
    let client = &client.client;
    let grant_type = request.grant_type();
    if !client.allows_grant(grant_type) {
        return Err(TokenError::GrantNotAllowed(grant_type));
    }
    if client.dpop_bound_access_tokens && proof.is_none() {
        return Err(TokenError::DpopRequired);
    }
    let jkt = proof.map(|p| p.jkt.as_str());
    let issued = match request {
        GrantRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            authorization_code::redeem(
                ctx,
                client,
                &code,
                redirect_uri.as_deref(),
                code_verifier.as_ref(),
                jkt,
            )
            .await
        }
        GrantRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh_token::refresh(ctx, client, &refresh_token, scope.as_deref(), jkt).await,
        GrantRequest::ClientCredentials { scope } => {
            client_credentials::issue(ctx, client, scope.as_deref(), jkt)
        }
    }?;
    let mut event = ctx
        .event(AuditKind::TokensIssued, format!("client:{}", client.id))
        .client(&client.id)
        .detail(serde_json::json!({
            "grant_type": grant_type.as_str(),
            "scope": issued.scope.to_string(),
            "refresh_token": issued.refresh_token.is_some(),
            "dpop_jkt": issued.jkt,
        }));
    if let Some(user) = &issued.user {
        event = event.user(user);
    }
    ctx.record(event);
    Ok(issued)
}

/// The key a new refresh token is bound to: a public client's is bound to the DPoP key it was
/// issued with (RFC 9449 §5), since nothing else ties it to the client; a confidential client's
/// is bound by the client's authentication instead, so that it survives a key rotation.
fn refresh_binding(client: &crate::client::Client, jkt: Option<&str>) -> Option<String> {
    if client.kind == crate::client::ClientKind::Public {
        jkt.map(str::to_owned)
    } else {
        None
    }
}

/// Checks that the key of the proof (`jkt`) is the one `bound` names, if `what` (the code or
/// refresh token) is bound to one.
fn check_binding(
    bound: Option<&str>,
    jkt: Option<&str>,
    what: &'static str,
) -> Result<(), TokenError> {
    match (bound, jkt) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(TokenError::DpopUnproven(what)),
        (Some(bound), Some(jkt)) if bound == jkt => Ok(()),
        (Some(_), Some(_)) => Err(TokenError::DpopKeyMismatch(what)),
    }
}

/// A requested scope string, checked to be well-formed and a subset of `allowed`; either
/// failure is `invalid_scope` (RFC 6749 §5.2: "invalid, unknown, malformed, or exceeds").
fn requested_scope(
    requested: Option<&str>,
    allowed: &portcullis_proto::ScopeSet,
    exceeds: TokenError,
) -> Result<Option<portcullis_proto::ScopeSet>, TokenError> {
    let Some(text) = requested else {
        return Ok(None);
    };
    let scope = portcullis_proto::ScopeSet::parse(text).map_err(|_| TokenError::ScopeMalformed)?;
    if scope.difference(allowed).is_empty() {
        Ok(Some(scope))
    } else {
        Err(exceeds)
    }
}
