//! The browser's journey through an authorization request, as one entry point for every page.
//!
//! A request arrives at the authorization endpoint ([`arrive`]); from then on each page event
//! (the browser resumes, opens an onboarding step or the consent page, answers it, cancels)
//! goes through [`advance`], which opens the pending request, checks that the event is one the
//! request can take now, and says what happens: show a page (with its model), go to another
//! step, or finish at the client's redirect URI. The HTTP layer only renders the outcome.
//!
//! The rules themselves live in [`super::authorize`] (what the next step is) and
//! [`super::consent`] (what an answer grants); new steps of the journey (stronger
//! authentication, pushed requests, payment consent) are new [`Event`]s and [`Outcome`]s here.

use std::sync::Arc;

use portcullis_proto::{ErrorCode, ProfileId};

use super::Context;
use super::authorize::{self, AuthorizeError, LoggedIn, Step};
use super::consent::{self, ConsentAnswer};
use crate::banking::onboarding;
use crate::client::Client;
use crate::client_cache::ClientLookup;
use crate::hash::SecretHash;
use crate::store::AuthRequestRecord;

/// Something the browser did on a pending request.
#[derive(Debug, Clone)]
pub enum Event {
    /// It came back to the request (after login, sign-up or an onboarding step).
    Resume,
    /// It opened the page of onboarding step `step`, or posted its form.
    AtOnboarding(onboarding::Step),
    /// It opened the consent page.
    OpenConsent,
    /// The user answered the consent page.
    ConsentAnswered(ConsentAnswer),
    /// The user gave up (the onboarding pages' cancel button): the client hears
    /// `access_denied` at once.
    Cancel,
}

/// What the browser is shown or sent to next.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Go to another step's page, or with [`Step::Redirect`] back to the client.
    Go(Step),
    /// Show the onboarding step the browser is at, acting on the assessment's profile.
    Onboarding(onboarding::Assessment),
    /// Show the consent page.
    Consent(ConsentModel),
}

/// A pending request, its client, and what happens next.
#[derive(Debug, Clone)]
pub struct Journey {
    /// The client asking.
    pub client: Arc<Client>,
    /// The request (its `handle` is what the pages carry).
    pub request: AuthRequestRecord,
    /// What happens next.
    pub outcome: Outcome,
}

/// A scope as the consent page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeItem {
    /// The scope.
    pub name: String,
    /// What it lets the app do, in the user's words (the registry's description).
    pub description: String,
}

/// A profile the app may act for, as the consent page offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChoice {
    /// The profile id.
    pub id: ProfileId,
    /// Its name.
    pub name: String,
    /// `personal` or `corporate`.
    pub kind: &'static str,
    /// Pre-selected: the one an earlier consent to this app chose, else the oldest.
    pub checked: bool,
}

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentModel {
    /// Each requested scope.
    pub scopes: Vec<ScopeItem>,
    /// The profiles to choose from: none when the scope binds none, else the ready ones.
    pub profiles: Vec<ProfileChoice>,
}

/// A new authorization request: validated ([`authorize::validate`]), then sent to its first
/// step for whoever is logged in.
///
/// # Errors
/// [`AuthorizeError::Page`] for requests that cannot be answered at the redirect URI,
/// [`AuthorizeError::Redirect`] for the others; storage and randomness failures.
pub async fn arrive(
    ctx: &Context<'_>,
    clients: &dyn ClientLookup,
    params: &[(String, String)],
    session: Option<LoggedIn<'_>>,
) -> Result<Journey, AuthorizeError> {
    let (client, request) = authorize::validate(ctx, clients, params).await?;
    let step = authorize::next_step(ctx, &request, &client, session).await?;
    Ok(Journey {
        client,
        request,
        outcome: Outcome::Go(step),
    })
}

/// The user logged in or signed up in `session` for the pending request `handle`: records it,
/// so the request's `prompt=login`, `prompt=create` and `max_age` count this login, and returns
/// the handle the pages carry from now on ([`authorize::authenticated`]).
///
/// # Errors
/// Randomness failures.
pub fn logged_in(
    ctx: &Context<'_>,
    handle: &str,
    session: &SecretHash,
) -> Result<String, AuthorizeError> {
    authorize::authenticated(ctx, handle, session)
}

/// Applies `event` to the pending request `handle`.
///
/// # Errors
/// [`authorize::PageError::UnknownRequest`] when the request is unknown, expired or answered;
/// [`authorize::PageError::Tampered`] for a consent answer that does not match it; storage and
/// randomness failures.
pub async fn advance(
    ctx: &Context<'_>,
    clients: &dyn ClientLookup,
    handle: &str,
    session: Option<LoggedIn<'_>>,
    event: Event,
) -> Result<Journey, AuthorizeError> {
    let (client, request) = authorize::pending(ctx, clients, handle).await?;
    let outcome = decide(ctx, &client, &request, session, event).await?;
    Ok(Journey {
        client,
        request,
        outcome,
    })
}

async fn decide(
    ctx: &Context<'_>,
    client: &Client,
    request: &AuthRequestRecord,
    session: Option<LoggedIn<'_>>,
    event: Event,
) -> Result<Outcome, AuthorizeError> {
    // The pages of a step need a login; without one the browser goes to log in first.
    let login = || {
        Outcome::Go(Step::Login {
            signup: authorize::Prompt::parse(&request.prompt).create,
        })
    };
    match event {
        Event::Cancel => {
            let why = "the user cancelled onboarding";
            let url =
                authorize::finish_with_error(ctx, request, ErrorCode::AccessDenied, why).await?;
            Ok(Outcome::Go(Step::Redirect(url)))
        }
        Event::Resume => Ok(Outcome::Go(
            authorize::next_step(ctx, request, client, session).await?,
        )),
        Event::AtOnboarding(step) => {
            let Some(session) = session else {
                return Ok(login());
            };
            match authorize::onboarding_at(ctx, request, session, step).await? {
                Some(assessment) => Ok(Outcome::Onboarding(assessment)),
                // Out of turn: the next step decides where the browser belongs.
                None => Ok(Outcome::Go(
                    authorize::next_step(ctx, request, client, Some(session)).await?,
                )),
            }
        }
        Event::OpenConsent => {
            let Some(session) = session else {
                return Ok(login());
            };
            if let Some(step) = authorize::before_consent(ctx, request, session).await? {
                return Ok(Outcome::Go(step));
            }
            Ok(Outcome::Consent(
                consent_model(ctx, request, client, session).await?,
            ))
        }
        Event::ConsentAnswered(answer) => {
            let Some(session) = session else {
                return Ok(login());
            };
            Ok(Outcome::Go(
                consent::answer(ctx, request, client, session, answer).await?,
            ))
        }
    }
}

/// The consent page's model: each scope with its description, and the profiles ready for the
/// scope with the pre-selection (the profile an earlier consent to this app chose, if it is
/// still ready, else the oldest).
async fn consent_model(
    ctx: &Context<'_>,
    request: &AuthRequestRecord,
    client: &Client,
    session: LoggedIn<'_>,
) -> Result<ConsentModel, AuthorizeError> {
    let registry = &ctx.settings.scopes;
    let scopes = request
        .scope
        .iter()
        .map(|s| ScopeItem {
            name: s.to_string(),
            description: registry
                .describe(s.as_str())
                .unwrap_or(s.as_str())
                .to_owned(),
        })
        .collect();
    if !authorize::binds_profile(ctx, &request.scope) {
        return Ok(ConsentModel {
            scopes,
            profiles: Vec::new(),
        });
    }
    let user = &session.user.id;
    let ready = onboarding::assess(ctx.store, user, &request.scope)
        .await?
        .ready;
    let previous = ctx
        .store
        .consent(user, &client.id)
        .await?
        .and_then(|c| c.profile_id)
        .filter(|p| ready.iter().any(|r| r.id == *p));
    let chosen = previous.or_else(|| ready.first().map(|p| p.id.clone()));
    let profiles = ready
        .into_iter()
        .map(|p| ProfileChoice {
            checked: chosen.as_ref() == Some(&p.id),
            id: p.id,
            name: p.name,
            kind: p.kind.as_str(),
        })
        .collect();
    Ok(ConsentModel { scopes, profiles })
}
