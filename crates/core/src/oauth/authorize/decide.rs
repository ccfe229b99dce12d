//! What the user must do next for a pending request: log in, onboard, consent, or nothing (a
//! code is issued at once).

use std::sync::Arc;

use portcullis_proto::{ErrorCode, ProfileId, ScopeSet, UserId};

use super::{AuthorizeError, PageError, Prompt, finish_with_error, issue_code_for};
use crate::banking::onboarding;
use crate::client::{Client, ClientKind};
use crate::client_cache::ClientLookup;
use crate::hash::SecretHash;
use crate::oauth::Context;
use crate::store::{AuthRequestRecord, ConsentRecord};
use crate::time::UnixTime;
use crate::user::User;

/// Who is logged in on the browser, if anyone.
#[derive(Debug, Clone, Copy)]
pub struct LoggedIn<'a> {
    /// The user.
    pub user: &'a User,
    /// When they authenticated.
    pub auth_time: UnixTime,
    /// The session's id, by digest (a login made for a request is bound to its session).
    pub session: &'a SecretHash,
}

/// What the user must do next for a pending request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Log in (or, with `signup`, create an account).
    Login {
        /// Open the sign-up page rather than the login page.
        signup: bool,
    },
    /// Complete an onboarding step first: the scope needs a profile, approved KYC, a wallet
    /// or an IBAN that the user does not have yet.
    Onboarding(onboarding::Step),
    /// Review and approve the requested scopes.
    Consent,
    /// Send the browser to the client: a code or an error, as a complete URL.
    Redirect(String),
}

/// Whether the browser's login may serve `request`: the user is not disabled, and either this
/// session's login was made for the request (see [`authenticated`]), or the request asks for no
/// new login (`prompt=login`, `create`) and the login is recent enough for `max_age` (OpenID
/// Connect Core §3.1.2.1).
#[must_use]
pub fn login_satisfies(request: &AuthRequestRecord, session: LoggedIn<'_>, now: UnixTime) -> bool {
    if session.user.disabled {
        return false;
    }
    if request.answered_by.as_ref() == Some(session.session) {
        return true;
    }
    let prompt = Prompt::parse(&request.prompt);
    !prompt.login
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

/// Records that the user logged in (or signed up) in `session` for the pending request with
/// `handle`, which answers its `prompt=login` / `prompt=create` and `max_age` for that session
/// only; returns the handle the pages carry from now on. Comparing the session's `auth_time`
/// with the request's creation instead cannot tell a login made for the request from one made
/// earlier in the same second, which would let an old session skip a required
/// re-authentication. An unknown or expired handle is returned unchanged (the next page says
/// so).
///
/// # Errors
/// Randomness failures.
pub fn authenticated(
    ctx: &Context<'_>,
    handle: &str,
    session: &SecretHash,
) -> Result<String, AuthorizeError> {
    let Some(request) = super::sealed::open(ctx, handle) else {
        return Ok(handle.to_owned());
    };
    let prompt = Prompt::parse(&request.prompt);
    if !prompt.login && !prompt.create && request.max_age.is_none() {
        return Ok(handle.to_owned());
    }
    let answered = AuthRequestRecord {
        answered_by: Some(session.clone()),
        ..request
    };
    Ok(super::sealed::seal(ctx, answered)?.handle)
}

/// Whether a grant of `scope` acts for a profile: banking is on and the scope involves one.
#[must_use]
pub fn binds_profile(ctx: &Context<'_>, scope: &ScopeSet) -> bool {
    ctx.banking.enabled && onboarding::needs_profile(scope)
}

/// The onboarding step `user` must still take before an app may have `scope`; `None` when
/// banking is off, the scope needs no profile, or one of the user's profiles is ready.
///
/// # Errors
/// Storage failures.
pub async fn onboarding_needed(
    ctx: &Context<'_>,
    user: &UserId,
    scope: &ScopeSet,
) -> Result<Option<onboarding::Step>, AuthorizeError> {
    if !binds_profile(ctx, scope) {
        return Ok(None);
    }
    Ok(onboarding::assess(ctx.store, user, scope).await?.step)
}

/// Where the user stands when their browser is at onboarding step `step` of `request`: `Some`
/// when the browser's login serves the request and `step` is the one missing (its page may be
/// shown and its form taken, acting on the assessment's profile); `None` when the flow is
/// elsewhere, which [`next_step`] decides (a login, an earlier or later step, consent).
///
/// # Errors
/// Storage failures.
pub async fn onboarding_at(
    ctx: &Context<'_>,
    request: &AuthRequestRecord,
    session: LoggedIn<'_>,
    step: onboarding::Step,
) -> Result<Option<onboarding::Assessment>, AuthorizeError> {
    if !login_satisfies(request, session, ctx.clock.now()) || !binds_profile(ctx, &request.scope) {
        return Ok(None);
    }
    let assessment = onboarding::assess(ctx.store, &session.user.id, &request.scope).await?;
    Ok((assessment.step == Some(step)).then_some(assessment))
}

/// What must happen before the consent page may be shown or answered: a login (see
/// [`login_needed`]), then the missing onboarding steps. `None` when the user may consent.
///
/// # Errors
/// Storage failures.
pub async fn before_consent(
    ctx: &Context<'_>,
    request: &AuthRequestRecord,
    session: LoggedIn<'_>,
) -> Result<Option<Step>, AuthorizeError> {
    if let Some(login) = login_needed(request, Some(session), ctx.clock.now()) {
        return Ok(Some(login));
    }
    Ok(onboarding_needed(ctx, &session.user.id, &request.scope)
        .await?
        .map(Step::Onboarding))
}

/// The profile an earlier consent binds a new grant of `scope` to: `Some(None)` when the scope
/// binds none, `Some(Some(id))` when the consent's profile is still the user's and ready for the
/// scope, and `None` when the user must be asked again (no profile bound, or it no longer
/// qualifies).
async fn consented_profile(
    ctx: &Context<'_>,
    consent: &ConsentRecord,
    scope: &ScopeSet,
) -> Result<Option<Option<ProfileId>>, AuthorizeError> {
    if !binds_profile(ctx, scope) {
        return Ok(Some(None));
    }
    let Some(id) = &consent.profile_id else {
        return Ok(None);
    };
    let Some(profile) = ctx
        .store
        .profile(id)
        .await?
        .filter(|p| p.user_id == consent.user_id)
    else {
        return Ok(None);
    };
    let ready = onboarding::step_of(ctx.store, &profile, scope)
        .await?
        .is_none();
    Ok(ready.then_some(Some(profile.id)))
}

/// Decides the next step of a pending request for whoever is logged in: log in, onboard
/// (when banking is on and the scope needs what the user lacks), consent, or a code when an
/// earlier consent covers the request (acting for the profile that consent chose). With
/// `prompt=none`, every step that needs a page is an error at the redirect URI instead
/// (`login_required`, `interaction_required`, `consent_required`; OpenID Connect Core
/// §3.1.2.6).
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
            // Nothing to spend: a prompt=none request never reaches a page, so its handle never
            // left the server; and an anonymous request writes nothing.
            let redirect = super::ErrorRedirect {
                redirect_uri: request.redirect_uri.clone(),
                error: ErrorCode::LoginRequired,
                description: "the user is not logged in".to_owned(),
                state: request.state.clone(),
            };
            return Ok(Step::Redirect(super::error_url(
                &redirect,
                &ctx.settings.issuer,
            )));
        }
        return Ok(Step::Login {
            signup: prompt.create,
        });
    };
    // An earlier consent that covers this request, if the request can only be the client's.
    let consent = if identity_assured(client, &request.redirect_uri) {
        ctx.store.consent(&session.user.id, &client.id).await?
    } else {
        None
    }
    .filter(|c| request.scope.is_subset(&c.scope) && !prompt.consent);
    // A client the user never approved learns nothing more than that: answering
    // `interaction_required` for a missing onboarding step would tell it the visitor's KYC state.
    if prompt.none && consent.is_none() {
        return consent_required(ctx, request).await;
    }
    if let Some(step) = onboarding_needed(ctx, &session.user.id, &request.scope).await? {
        if prompt.none {
            let why = "the user must complete onboarding (profile, KYC, wallet or IBAN) first";
            let url = finish_with_error(ctx, request, ErrorCode::InteractionRequired, why).await?;
            return Ok(Step::Redirect(url));
        }
        return Ok(Step::Onboarding(step));
    }
    let profile = match &consent {
        Some(consent) => consented_profile(ctx, consent, &request.scope).await?,
        None => None,
    };
    let Some(profile) = profile else {
        if prompt.none {
            return consent_required(ctx, request).await;
        }
        return Ok(Step::Consent);
    };
    let url = issue_code_for(ctx, request, session, request.scope.clone(), profile).await?;
    Ok(Step::Redirect(url))
}

/// `consent_required` at the redirect URI (`prompt=none` without a covering consent).
async fn consent_required(
    ctx: &Context<'_>,
    request: &AuthRequestRecord,
) -> Result<Step, AuthorizeError> {
    let why = "the user has not approved this request";
    let url = finish_with_error(ctx, request, ErrorCode::ConsentRequired, why).await?;
    Ok(Step::Redirect(url))
}

/// Whether the request can only have come from the client it names, so that a consent given
/// earlier may be applied without asking again. A confidential client proves itself when it
/// redeems the code; a public one is proven only by an `https` redirect URI, which only its
/// owner's site receives. Any app can register a custom scheme or listen on loopback, and so
/// impersonate a native app that uses one: those requests ask every time (RFC 8252 §8.6).
fn identity_assured(client: &Client, redirect_uri: &str) -> bool {
    match client.kind {
        ClientKind::Confidential => true,
        ClientKind::Public => url::Url::parse(redirect_uri).is_ok_and(|uri| {
            uri.scheme() == "https"
                && !matches!(uri.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)))
                && uri.host_str() != Some("localhost")
        }),
    }
}

/// A pending request by its handle, unexpired and not yet answered, with its client.
///
/// # Errors
/// [`PageError::UnknownRequest`] when the handle does not open (altered, sealed by another
/// cluster, expired) or the request was answered.
pub async fn pending(
    ctx: &Context<'_>,
    clients: &dyn ClientLookup,
    handle: &str,
) -> Result<(Arc<Client>, AuthRequestRecord), AuthorizeError> {
    let request = super::sealed::open(ctx, handle).ok_or(PageError::UnknownRequest)?;
    if ctx.store.auth_request_spent(&request.id).await? {
        return Err(PageError::UnknownRequest.into());
    }
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

    fn pending_request(prompt: &str, max_age: Option<i64>) -> AuthRequestRecord {
        AuthRequestRecord {
            id: "r".into(),
            handle: String::new(),
            client_id: portcullis_proto::ClientId::new("c"),
            redirect_uri: "https://app.example/cb".into(),
            redirect_uri_given: true,
            scope: ScopeSet::new(),
            state: None,
            challenge: None,
            nonce: None,
            prompt: prompt.into(),
            dpop_jkt: None,
            max_age,
            created_at: UnixTime(1000),
            expires_at: UnixTime(4600),
            answered_by: None,
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
            contact: crate::oauth::claims::Contact::default(),
            created_at: UnixTime(0),
            updated_at: UnixTime(0),
        };
        let this_session = SecretHash::of("session-1");
        let session = LoggedIn {
            user: &user,
            auth_time: UnixTime(1000),
            session: &this_session,
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
        // A login made for the request answers it, in the session that made it only.
        let answered = |by: &str| AuthRequestRecord {
            answered_by: Some(SecretHash::of(by)),
            ..pending_request("login", Some(0))
        };
        assert!(login_satisfies(&answered("session-1"), session, later));
        assert!(!login_satisfies(&answered("session-2"), session, later));
        let disabled = User {
            disabled: true,
            ..user.clone()
        };
        let session = LoggedIn {
            user: &disabled,
            auth_time: UnixTime(1000),
            session: &this_session,
        };
        assert!(!login_satisfies(&pending_request("", None), session, now));
    }
}
