//! The authorization endpoint (RFC 6749 §4.1.1–§4.1.2, RFC 7636 §4.3, RFC 9207, OpenID Connect
//! Core §3.1.2): validating a request, and deciding what the user must do next.

use std::collections::HashMap;
use std::sync::Arc;

use portcullis_proto::{ErrorCode, ScopeSet, Secret};

use super::Context;
use crate::client::{Client, ClientKind, GrantType, PkcePolicy};
use crate::client_cache::ClientLookup;
use crate::hash::SecretHash;
use crate::pkce::{self, ChallengeMethod};
use crate::random::new_secret;
use crate::store::{AuthRequestRecord, CodeChallenge, CodeRecord, StoreError};
use crate::time::UnixTime;
use crate::user::User;

/// The longest `state` accepted (it is echoed, so it is bounded).
pub const MAX_STATE_LEN: usize = 4096;
/// The longest `nonce` accepted.
pub const MAX_NONCE_LEN: usize = 1024;

/// Problems that must not be sent to the redirect URI, because the client or the URI cannot be
/// trusted (RFC 6749 §4.1.2.1): the user sees an error page instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// No `client_id`.
    #[error("the request names no client (client_id is missing)")]
    MissingClientId,
    /// No such client, or disabled.
    #[error("the application that sent you here is not registered or has been disabled")]
    UnknownClient,
    /// `client_id` or `redirect_uri` given twice.
    #[error("the request repeats the parameter {0}")]
    Repeated(&'static str),
    /// No `redirect_uri`, and the client has several.
    #[error("the request names no redirect URI, and the application has registered several")]
    MissingRedirectUri,
    /// A `redirect_uri` the client never registered.
    #[error("the redirect URI of the request is not one the application registered")]
    UnregisteredRedirectUri,
    /// The pending request is unknown or has expired.
    #[error("this sign-in request has expired or is unknown; start again from the application")]
    UnknownRequest,
    /// A consent form that does not match its request.
    #[error("the form did not match the request it answers")]
    Tampered,
}

/// An error returned to the client at its redirect URI, with `state` and `iss`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    /// Where to send it.
    pub redirect_uri: String,
    /// The error code.
    pub error: ErrorCode,
    /// Why, for the developer.
    pub description: String,
    /// The request's `state`.
    pub state: Option<String>,
}

/// Why an authorization request did not proceed.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// Show an error page.
    #[error(transparent)]
    Page(#[from] PageError),
    /// Redirect the error to the client.
    #[error("{}: {}", .0.error, .0.description)]
    Redirect(ErrorRedirect),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] crate::random::RandomError),
}

/// The `prompt` values understood (OpenID Connect Core §3.1.2.1, Initiating User Registration
/// §4), plus Money Button's `landing=register`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// Never show a page.
    pub none: bool,
    /// Ask the user to log in again.
    pub login: bool,
    /// Ask for consent again.
    pub consent: bool,
    /// Open the sign-up page.
    pub create: bool,
}

impl Prompt {
    /// Parses the stored, space-delimited form. Unknown values are ignored.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut prompt = Self::default();
        for value in text.split(' ') {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "create" => prompt.create = true,
                _ => {}
            }
        }
        prompt
    }
}

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

/// Validates an authorization request and stores it, pending the user. Empty parameters
/// count as absent; unknown ones are ignored.
///
/// # Errors
/// [`AuthorizeError::Page`] when the client or redirect URI cannot be trusted,
/// [`AuthorizeError::Redirect`] for every other problem.
pub async fn validate(
    ctx: &Context<'_>,
    clients: &dyn ClientLookup,
    params: &[(String, String)],
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
        return Err(fail(
            ErrorCode::InvalidRequest,
            &format!("parameter {name} was given more than once"),
        ));
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
    let mut prompt: Vec<&str> = get("prompt")
        .map(|p| p.split(' ').collect())
        .unwrap_or_default();
    if prompt.contains(&"none") && prompt.len() > 1 {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "prompt=none cannot be combined with other values",
        ));
    }
    // landing=register picks the page to show; with prompt=none no page is shown, so it must
    // not turn into prompt=create (which would make every silent request login_required).
    if get("landing") == Some("register")
        && !prompt.contains(&"create")
        && !prompt.contains(&"none")
    {
        prompt.push("create");
    }
    let now = ctx.clock.now();
    let record = AuthRequestRecord {
        id: new_secret(ctx.random)?.expose().to_owned(),
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.clone(),
        redirect_uri_given: requested_uri.is_some(),
        scope,
        state: state.map(str::to_owned),
        challenge,
        nonce: nonce.map(str::to_owned),
        prompt: prompt.join(" "),
        max_age,
        created_at: now,
        expires_at: now.plus(ctx.settings.auth_request_ttl),
    };
    match ctx.store.insert_auth_request(&record).await {
        Ok(()) => Ok((client, record)),
        Err(StoreError::Unavailable(_)) => Err(fail(
            ErrorCode::TemporarilyUnavailable,
            "the authorization server is temporarily unavailable; retry shortly",
        )),
        Err(other) => Err(other.into()),
    }
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
    let scope = ScopeSet::parse(text).map_err(|e| e.to_string())?;
    let outside = scope.difference(&grantable);
    if outside.is_empty() {
        Ok(scope)
    } else {
        Err(format!("scope {outside} is not available to this client"))
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

/// Who is logged in on the browser, if anyone.
#[derive(Debug, Clone, Copy)]
pub struct LoggedIn<'a> {
    /// The user.
    pub user: &'a User,
    /// When they authenticated.
    pub auth_time: UnixTime,
}

/// What the user must do next for a pending request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Log in (or, with `signup`, create an account).
    Login {
        /// Open the sign-up page rather than the login page.
        signup: bool,
    },
    /// Review and approve the requested scopes.
    Consent,
    /// Send the browser to the client: a code or an error, as a complete URL.
    Redirect(String),
}

/// Whether the browser's login may serve `request`: the user is not disabled, the request
/// asks for no new login (`prompt=login` or `create` not yet answered by a login during the
/// request, see [`authenticated`]), and the login is recent enough for `max_age` (OpenID
/// Connect Core §3.1.2.1).
#[must_use]
pub fn login_satisfies(request: &AuthRequestRecord, session: LoggedIn<'_>, now: UnixTime) -> bool {
    let prompt = Prompt::parse(&request.prompt);
    !session.user.disabled
        && !prompt.login
        && !prompt.create
        && crate::session::fresh_enough(session.auth_time, request.max_age, now)
}

/// The login (or sign-up) step, when the browser's login cannot serve `request`.
#[must_use]
pub fn login_needed(
    request: &AuthRequestRecord,
    session: Option<LoggedIn<'_>>,
    now: UnixTime,
) -> Option<Step> {
    match session {
        Some(session) if login_satisfies(request, session, now) => None,
        _ => Some(Step::Login {
            signup: Prompt::parse(&request.prompt).create,
        }),
    }
}

/// Records that the user logged in (or signed up) for pending request `id`, which answers its
/// `prompt=login` / `prompt=create` and `max_age`. Comparing the session's `auth_time` with the
/// request's creation instead cannot tell a login made for the request from one made earlier
/// in the same second, which would let an old session skip a required re-authentication.
/// An unknown or expired request is left alone.
///
/// # Errors
/// Storage failures.
pub async fn authenticated(ctx: &Context<'_>, id: &str) -> Result<(), AuthorizeError> {
    let now = ctx.clock.now();
    let Some(request) = ctx
        .store
        .auth_request(id)
        .await?
        .filter(|r| r.expires_at > now)
    else {
        return Ok(());
    };
    let prompt = Prompt::parse(&request.prompt);
    if !prompt.login && !prompt.create && request.max_age.is_none() {
        return Ok(());
    }
    let answered = AuthRequestRecord {
        prompt: request
            .prompt
            .split(' ')
            .filter(|p| !matches!(*p, "login" | "create" | ""))
            .collect::<Vec<_>>()
            .join(" "),
        max_age: None,
        ..request
    };
    // The store has no update for requests: replace the record under the same id.
    ctx.store.delete_auth_request(id).await?;
    match ctx.store.insert_auth_request(&answered).await {
        // Two logins for one request raced; the other one recorded it.
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(other) => Err(other.into()),
    }
}

/// Decides the next step of a pending request for whoever is logged in.
///
/// # Errors
/// Storage or randomness failures.
pub async fn next_step(
    ctx: &Context<'_>,
    request: &AuthRequestRecord,
    client: &Client,
    session: Option<LoggedIn<'_>>,
) -> Result<Step, AuthorizeError> {
    let prompt = Prompt::parse(&request.prompt);
    let now = ctx.clock.now();
    let Some(session) = session.filter(|s| login_satisfies(request, *s, now)) else {
        if prompt.none {
            let url = finish_with_error(
                ctx,
                request,
                ErrorCode::LoginRequired,
                "the user is not logged in",
            )
            .await?;
            return Ok(Step::Redirect(url));
        }
        return Ok(Step::Login {
            signup: prompt.create,
        });
    };
    let consent = ctx.store.consent(&session.user.id, &client.id).await?;
    let covered = consent.is_some_and(|c| request.scope.is_subset(&c.scope));
    if !covered || prompt.consent {
        if prompt.none {
            let url = finish_with_error(
                ctx,
                request,
                ErrorCode::ConsentRequired,
                "the user has not approved this request",
            )
            .await?;
            return Ok(Step::Redirect(url));
        }
        return Ok(Step::Consent);
    }
    let url = issue_code(ctx, request, session, request.scope.clone()).await?;
    Ok(Step::Redirect(url))
}

/// Ends a request with an error for the client; returns the redirect URL.
///
/// # Errors
/// Storage failures.
pub async fn finish_with_error(
    ctx: &Context<'_>,
    request: &AuthRequestRecord,
    error: ErrorCode,
    description: &str,
) -> Result<String, AuthorizeError> {
    ctx.store.delete_auth_request(&request.id).await?;
    let redirect = ErrorRedirect {
        redirect_uri: request.redirect_uri.clone(),
        error,
        description: description.to_owned(),
        state: request.state.clone(),
    };
    Ok(error_url(&redirect, &ctx.settings.issuer))
}

/// Issues a code for `scope` and returns the redirect URL carrying it, `state` and `iss`. The
/// request is spent.
///
/// # Errors
/// Storage or randomness failures.
pub async fn issue_code(
    ctx: &Context<'_>,
    request: &AuthRequestRecord,
    session: LoggedIn<'_>,
    scope: ScopeSet,
) -> Result<String, AuthorizeError> {
    let code = new_secret(ctx.random)?;
    let now = ctx.clock.now();
    let record = CodeRecord {
        hash: SecretHash::of(code.expose()),
        client_id: request.client_id.clone(),
        user_id: session.user.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_given: request.redirect_uri_given,
        scope,
        challenge: request.challenge.clone(),
        nonce: request.nonce.clone(),
        profile_id: None,
        auth_time: session.auth_time,
        created_at: now,
        expires_at: now.plus(super::CODE_TTL_SECONDS),
        redeemed_at: None,
        grant_id: None,
    };
    ctx.store.insert_code(&record).await?;
    ctx.store.delete_auth_request(&request.id).await?;
    Ok(success_url(
        &request.redirect_uri,
        &code,
        request.state.as_deref(),
        &ctx.settings.issuer,
    ))
}

fn with_query(redirect_uri: &str, pairs: &[(&str, Option<&str>)]) -> String {
    // The redirect URI was registered as an absolute URI; it parses.
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return redirect_uri.to_owned();
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
    }
    url.into()
}

/// `redirect_uri?code=…&state=…&iss=…` (RFC 6749 §4.1.2, RFC 9207 §2).
#[must_use]
pub fn success_url(redirect_uri: &str, code: &Secret, state: Option<&str>, issuer: &str) -> String {
    with_query(
        redirect_uri,
        &[
            ("code", Some(code.expose())),
            ("state", state),
            ("iss", Some(issuer)),
        ],
    )
}

/// `redirect_uri?error=…&error_description=…&state=…&iss=…` (RFC 6749 §4.1.2.1, RFC 9207).
#[must_use]
pub fn error_url(redirect: &ErrorRedirect, issuer: &str) -> String {
    with_query(
        &redirect.redirect_uri,
        &[
            ("error", Some(redirect.error.as_str())),
            ("error_description", Some(&redirect.description)),
            ("state", redirect.state.as_deref()),
            ("iss", Some(issuer)),
        ],
    )
}

/// A pending request by id, unexpired, with its client.
///
/// # Errors
/// [`PageError::UnknownRequest`] when missing or expired.
pub async fn pending(
    ctx: &Context<'_>,
    clients: &dyn ClientLookup,
    id: &str,
) -> Result<(Arc<Client>, AuthRequestRecord), AuthorizeError> {
    let request = ctx
        .store
        .auth_request(id)
        .await?
        .filter(|r| r.expires_at > ctx.clock.now())
        .ok_or(PageError::UnknownRequest)?;
    let client = clients
        .find_client(&request.client_id)
        .await?
        .filter(|c| c.enabled)
        .ok_or(PageError::UnknownClient)?;
    Ok((client, request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_existing_query_and_encode_values() {
        let url = success_url(
            "https://app.example/cb?x=1",
            &Secret::new("c o"),
            Some("s&t"),
            "https://as.example",
        );
        assert_eq!(
            url,
            "https://app.example/cb?x=1&code=c+o&state=s%26t&iss=https%3A%2F%2Fas.example"
        );
        let error = error_url(
            &ErrorRedirect {
                redirect_uri: "https://app.example/cb".into(),
                error: ErrorCode::AccessDenied,
                description: "no".into(),
                state: None,
            },
            "https://as.example",
        );
        assert_eq!(
            error,
            "https://app.example/cb?error=access_denied&error_description=no&iss=https%3A%2F%2Fas.example"
        );
    }

    fn pending_request(prompt: &str, max_age: Option<i64>) -> AuthRequestRecord {
        AuthRequestRecord {
            id: "r".into(),
            client_id: portcullis_proto::ClientId::new("c"),
            redirect_uri: "https://app.example/cb".into(),
            redirect_uri_given: true,
            scope: ScopeSet::new(),
            state: None,
            challenge: None,
            nonce: None,
            prompt: prompt.into(),
            max_age,
            created_at: UnixTime(1000),
            expires_at: UnixTime(4600),
        }
    }

    #[test]
    fn a_login_from_the_same_second_does_not_answer_prompt_login() {
        let user = User {
            id: portcullis_proto::UserId::new("u"),
            email: "a@example.com".into(),
            name: "A".into(),
            password_hash: None,
            disabled: false,
            created_at: UnixTime(0),
            updated_at: UnixTime(0),
        };
        let session = LoggedIn {
            user: &user,
            auth_time: UnixTime(1000),
        };
        let now = UnixTime(1000);
        assert!(login_satisfies(&pending_request("", None), session, now));
        assert!(login_satisfies(
            &pending_request("consent", Some(0)),
            session,
            now
        ));
        for prompt in ["login", "create", "login consent"] {
            assert!(!login_satisfies(
                &pending_request(prompt, None),
                session,
                now
            ));
        }
        let later = UnixTime(1061);
        assert!(!login_satisfies(
            &pending_request("", Some(60)),
            session,
            later
        ));
        assert!(login_satisfies(
            &pending_request("", Some(61)),
            session,
            later
        ));
        let disabled = User {
            disabled: true,
            ..user.clone()
        };
        let session = LoggedIn {
            user: &disabled,
            auth_time: UnixTime(1000),
        };
        assert!(!login_satisfies(&pending_request("", None), session, now));
    }

    #[test]
    fn prompt_values() {
        let p = Prompt::parse("login consent unknown");
        assert!(p.login && p.consent && !p.none && !p.create);
    }

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
