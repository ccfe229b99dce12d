//! Validating an authorization request (RFC 6749 §4.1.1, §3.1, §3.3; RFC 7636 §4.3) and
//! sealing it for the browser to carry, pending the user.

use std::collections::HashMap;
use std::sync::Arc;

use portcullis_proto::{ErrorCode, ScopeSet};

use super::{AuthorizeError, ErrorRedirect, PageError, sealed};
use crate::client::{Client, ClientKind, GrantType, PkcePolicy};
use crate::client_cache::ClientLookup;
use crate::oauth::Context;
use crate::pkce::{self, ChallengeMethod};
use crate::random::new_secret;
use crate::store::{AuthRequestRecord, CodeChallenge};

/// The parameters of an authorization request this server reads or refuses by name.
const KNOWN_PARAMETERS: [&str; 16] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "prompt",
    "max_age",
    "response_mode",
    "request",
    "request_uri",
    "login_hint",
    "claims",
    "dpop_jkt",
];

/// The longest `state` accepted (it is echoed, so it is bounded).
pub const MAX_STATE_LEN: usize = 4096;
/// The longest `nonce` accepted.
pub const MAX_NONCE_LEN: usize = 1024;

fn redirect_error(
    redirect_uri: &str,
    state: Option<&str>,
    error: ErrorCode,
    description: impl Into<String>,
) -> AuthorizeError {
    AuthorizeError::Redirect(ErrorRedirect {
        redirect_uri: redirect_uri.to_owned(),
        error,
        description: description.into(),
        state: state.map(str::to_owned),
    })
}

/// The parameters, indexed, and the names that came more than once (RFC 6749 §3.1), in the
/// order they were first repeated. Every repeated name is kept: a repeated `client_id` must be
/// found even when another parameter was repeated before it.
fn index(params: &[(String, String)]) -> (HashMap<&str, &str>, Vec<&str>) {
    let mut map = HashMap::new();
    let mut repeated = Vec::new();
    for (name, value) in params {
        if map.insert(name.as_str(), value.as_str()).is_some() && !repeated.contains(&name.as_str())
        {
            repeated.push(name.as_str());
        }
    }
    (map, repeated)
}

/// Validates an authorization request and seals it (its `handle`), pending the user. Empty parameters
/// count as absent; unknown ones are ignored. A request with `request_uri` is the one the client
/// pushed (RFC 9126 §4): its stored parameters are taken (once) and validated, and the others
/// sent beside `client_id` are ignored.
///
/// # Errors
/// [`AuthorizeError::Page`] when the client or redirect URI cannot be trusted, or the pushed
/// request is unknown; [`AuthorizeError::Redirect`] for every other problem.
pub async fn validate(
    ctx: &Context<'_>,
    clients: &dyn ClientLookup,
    params: &[(String, String)],
) -> Result<(Arc<Client>, AuthRequestRecord), AuthorizeError> {
    let first = |name: &str| {
        params
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    if let Some(request_uri) = first("request_uri") {
        let pushed = crate::oauth::par::redeem(ctx, first("client_id"), request_uri).await?;
        return validate_params(ctx, clients, &pushed, true).await;
    }
    validate_params(ctx, clients, params, false).await
}

/// [`validate`] of the parameters themselves; `pushed` when they come from a pushed request
/// (then a client that must push passes).
///
/// # Errors
/// As [`validate`].
pub(crate) async fn validate_params(
    ctx: &Context<'_>,
    clients: &dyn ClientLookup,
    params: &[(String, String)],
    pushed: bool,
) -> Result<(Arc<Client>, AuthRequestRecord), AuthorizeError> {
    let (map, repeated) = index(params);
    let get = |name: &str| map.get(name).copied().filter(|v| !v.is_empty());
    for critical in ["client_id", "redirect_uri"] {
        if repeated.contains(&critical) {
            return Err(PageError::Repeated(critical).into());
        }
    }
    let client_id = get("client_id").ok_or(PageError::MissingClientId)?;
    let client = clients
        .find_client(&portcullis_proto::ClientId::new(client_id))
        .await?
        .filter(|c| c.enabled)
        .ok_or(PageError::UnknownClient)?;
    let requested_uri = get("redirect_uri");
    let redirect_uri = match client.redirect_uri_for(requested_uri) {
        Some(uri) => uri,
        None if requested_uri.is_none() => return Err(PageError::MissingRedirectUri.into()),
        None => return Err(PageError::UnregisteredRedirectUri.into()),
    };
    // From here on, errors go back to the client.
    let state = if repeated.contains(&"state") {
        None
    } else {
        get("state")
    };
    let fail = |error, description: &str| redirect_error(&redirect_uri, state, error, description);
    if let Some(name) = repeated.first() {
        // Named only when it is one of the parameters this endpoint knows: descriptions echo
        // no request input (RFC 6749 §4.1.2.1).
        let description = KNOWN_PARAMETERS
            .iter()
            .find(|known| *known == name)
            .map_or_else(
                || "a parameter was given more than once".to_owned(),
                |known| format!("parameter {known} was given more than once"),
            );
        return Err(fail(ErrorCode::InvalidRequest, &description));
    }
    match get("response_type") {
        None => return Err(fail(ErrorCode::InvalidRequest, "response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if get("response_mode").is_some_and(|m| m != "query") {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "only response_mode=query is supported",
        ));
    }
    // Request objects are refused rather than ignored: ignoring one would act on the plain
    // parameters while the client believes its signed request was applied (OpenID Connect Core
    // §6.1, §6.2; RFC 9101 §10.2).
    if get("request").is_some() {
        return Err(fail(
            ErrorCode::RequestNotSupported,
            "request objects (the request parameter) are not supported",
        ));
    }
    if !pushed
        && (client.require_pushed_authorization_requests
            || ctx.settings.require_pushed_authorization_requests)
    {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "this client must push its authorization requests first (PAR, RFC 9126): send \
             request_uri from the pushed_authorization_request_endpoint",
        ));
    }
    // Discovery says claims_parameter_supported: false; a client that sends claims anyway
    // asks for something it will not get, so say so (OpenID Connect Core §5.5).
    if get("claims").is_some() {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "the claims parameter is not supported",
        ));
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(fail(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow",
        ));
    }
    if state.is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(fail(ErrorCode::InvalidRequest, "state is too long"));
    }
    let scope = requested_scope(ctx, &client, get("scope"))
        .map_err(|d| fail(ErrorCode::InvalidScope, &d))?;
    let challenge = challenge(&client, get("code_challenge"), get("code_challenge_method"))
        .map_err(|d| fail(ErrorCode::InvalidRequest, &d))?;
    let nonce = get("nonce");
    if nonce.is_some_and(|n| n.len() > MAX_NONCE_LEN) {
        return Err(fail(ErrorCode::InvalidRequest, "nonce is too long"));
    }
    let max_age = match get("max_age") {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    fail(
                        ErrorCode::InvalidRequest,
                        "max_age must be a non-negative integer",
                    )
                })?,
        ),
    };
    // RFC 9449 §10: the thumbprint of the key the code is to be bound to.
    let dpop_jkt = get("dpop_jkt");
    if dpop_jkt.is_some_and(|jkt| !crate::oauth::dpop::is_thumbprint(jkt)) {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "dpop_jkt must be a base64url SHA-256 JWK thumbprint (RFC 7638)",
        ));
    }
    let prompt: Vec<&str> = get("prompt")
        .map(|p| p.split(' ').collect())
        .unwrap_or_default();
    if prompt.contains(&"none") && prompt.len() > 1 {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "prompt=none cannot be combined with other values",
        ));
    }
    let now = ctx.clock.now();
    let record = AuthRequestRecord {
        id: new_secret(ctx.random)?.expose().to_owned(),
        handle: String::new(),
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.clone(),
        redirect_uri_given: requested_uri.is_some(),
        scope,
        state: state.map(str::to_owned),
        challenge,
        nonce: nonce.map(str::to_owned),
        prompt: prompt.join(" "),
        max_age,
        dpop_jkt: dpop_jkt.map(str::to_owned),
        created_at: now,
        expires_at: now.plus(ctx.settings.auth_request_ttl),
        answered_by: None,
    };
    // Sealed, not stored: an anonymous request writes nothing (see `sealed`).
    Ok((client, sealed::seal(ctx, record)?))
}

/// The scope asked for: without `scope`, every user-grantable scope the client may have
/// (RFC 6749 §3.3 lets the server pick a default); with it, a subset of those.
fn requested_scope(
    ctx: &Context<'_>,
    client: &Client,
    scope: Option<&str>,
) -> Result<ScopeSet, String> {
    let grantable = client
        .scopes
        .intersection(&ctx.settings.scopes.user_grantable());
    let Some(text) = scope else {
        return Ok(grantable);
    };
    let scope = ScopeSet::parse(text).map_err(|_| {
        "scope is malformed: it must be space-separated tokens of printable ASCII without \
         quotes or backslashes"
            .to_owned()
    })?;
    let outside = scope.difference(&grantable);
    if outside.is_empty() {
        Ok(scope)
    } else {
        Err(format!(
            "{} requested scope(s) are not available to this client",
            outside.len()
        ))
    }
}

/// PKCE at the authorization endpoint: S256 required unless the client is configured
/// otherwise; a challenge without a method means `plain` (RFC 7636 §4.3), which only clients
/// configured for it may use.
fn challenge(
    client: &Client,
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<Option<CodeChallenge>, String> {
    let Some(challenge) = challenge else {
        let optional = client.pkce == PkcePolicy::Optional;
        return if optional && method.is_none() {
            Ok(None)
        } else if client.kind == ClientKind::Public && !optional {
            Err("code_challenge is required: public clients must use PKCE (S256)".into())
        } else {
            Err("code_challenge is required (PKCE with S256)".into())
        };
    };
    let method = match method {
        None => ChallengeMethod::Plain,
        Some(m) => ChallengeMethod::parse(m).ok_or("code_challenge_method must be S256")?,
    };
    if method == ChallengeMethod::Plain && client.pkce != PkcePolicy::PlainAllowed {
        return Err(
            "code_challenge_method must be S256 (plain is not allowed for this client)".into(),
        );
    }
    if !pkce::is_well_formed(challenge) {
        return Err("code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]".into());
    }
    Ok(Some(CodeChallenge {
        challenge: challenge.to_owned(),
        method,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_found() {
        let params = vec![
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "2".to_owned()),
            ("a".to_owned(), "3".to_owned()),
        ];
        assert_eq!(index(&params).1, vec!["a"]);
    }
}
