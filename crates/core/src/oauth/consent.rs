//! The user's answer on the consent page, including partial grants and the profile the app
//! will act for.

use portcullis_proto::{ErrorCode, ProfileId, Scope, ScopeSet, UserId};

use super::Context;
use super::authorize::{
    AuthorizeError, LoggedIn, PageError, Step, binds_profile, finish_with_error, issue_code_for,
    login_needed,
};
use crate::audit::AuditKind;
use crate::banking::onboarding;
use crate::banking::profile::Profile;
use crate::client::Client;
use crate::store::{AuthRequestRecord, ConsentRecord};

/// What the consent form sent.
#[derive(Debug, Clone)]
pub struct ConsentAnswer {
    /// `decision=allow` (true) or `decision=deny`.
    pub allow: bool,
    /// The ticked `scope` checkboxes.
    pub scopes: Vec<String>,
    /// The hidden `client_id` of the form.
    pub client_id: String,
    /// The `profile` chosen (a radio button when the user has several ready profiles, a hidden
    /// field when one); `None` when the form had none.
    pub profile: Option<String>,
}

/// The profile the form names, which must be the user's: any other id is tampering, whether or
/// not it exists (so the answer reveals nothing about other users' profiles).
async fn named_profile(
    ctx: &Context<'_>,
    user: &UserId,
    id: Option<&str>,
) -> Result<Option<Profile>, AuthorizeError> {
    let Some(id) = id.filter(|id| !id.is_empty()) else {
        return Ok(None);
    };
    let profile = ctx
        .store
        .profile(&ProfileId::new(id))
        .await?
        .filter(|p| p.user_id == *user)
        .ok_or(PageError::Tampered)?;
    Ok(Some(profile))
}

/// The profile a grant of `granted` acts for: the one chosen, which must be ready for the scope
/// (the page offers only those); without a choice, the user's only ready profile. `Err` with
/// the onboarding step when the user has no ready profile (the pages were skipped).
async fn bound_profile(
    ctx: &Context<'_>,
    user: &UserId,
    granted: &ScopeSet,
    chosen: Option<Profile>,
) -> Result<Result<ProfileId, Step>, AuthorizeError> {
    if let Some(profile) = chosen {
        let ready = onboarding::step_of(ctx.store, &profile, granted)
            .await?
            .is_none();
        return if ready {
            Ok(Ok(profile.id))
        } else {
            Err(PageError::Tampered.into())
        };
    }
    let assessment = onboarding::assess(ctx.store, user, granted).await?;
    let mut ready = assessment.ready.into_iter();
    match (ready.next(), ready.next()) {
        (Some(only), None) => Ok(Ok(only.id)),
        // Several: the user must say which; a form without the choice was not the page's.
        (Some(_), Some(_)) => Err(PageError::Tampered.into()),
        (None, _) => Ok(Err(Step::Onboarding(
            assessment.step.unwrap_or(onboarding::Step::Profile),
        ))),
    }
}

/// Applies the user's answer: deny sends `access_denied`; allow grants exactly the ticked
/// scopes (a partial grant when some were unticked), remembers them as approved for this
/// client, and sends a code. When the granted scope involves a profile (banking on), the grant
/// acts for the profile chosen, which is remembered with the consent (so the app's partner
/// reach, later requests and the tokens' `profile` claim follow it). When the request still
/// needs a login (`prompt=login`, `max_age`) the answer is not taken and the login step is
/// returned: the consent page must not be a way around a required re-authentication; likewise
/// an allow without a ready profile returns the onboarding step.
///
/// # Errors
/// [`PageError::Tampered`] when the form names another client, a scope that was not requested,
/// a profile that is not the user's or not ready, or no profile when the user must choose one;
/// storage failures.
pub async fn answer(
    ctx: &Context<'_>,
    request: &AuthRequestRecord,
    client: &Client,
    session: LoggedIn<'_>,
    answer: ConsentAnswer,
) -> Result<Step, AuthorizeError> {
    if answer.client_id != client.id.as_str() || request.client_id != client.id {
        return Err(PageError::Tampered.into());
    }
    let mut granted = ScopeSet::new();
    for scope in &answer.scopes {
        let scope = Scope::parse(scope).map_err(|_| PageError::Tampered)?;
        if !request.scope.contains(scope.as_str()) {
            return Err(PageError::Tampered.into());
        }
        granted.insert(scope);
    }
    let user = &session.user.id;
    let chosen = named_profile(ctx, user, answer.profile.as_deref()).await?;
    if let Some(login) = login_needed(request, Some(session), ctx.clock.now()) {
        return Ok(login);
    }
    // An allow with every requested scope unticked is a denial.
    let allowed = answer.allow && (!granted.is_empty() || request.scope.is_empty());
    let profile = if allowed && binds_profile(ctx, &granted) {
        match bound_profile(ctx, user, &granted, chosen).await? {
            Ok(profile) => Some(profile),
            Err(step) => return Ok(step),
        }
    } else {
        None
    };
    let (kind, granted_now) = match (
        answer.allow,
        granted.is_empty() && !request.scope.is_empty(),
    ) {
        (false, _) | (true, true) => (AuditKind::ConsentDenied, ScopeSet::new()),
        (true, false) if granted == request.scope => (AuditKind::ConsentGiven, granted.clone()),
        (true, false) => (AuditKind::ConsentPartial, granted.clone()),
    };
    let mut event = ctx
        .event(kind, format!("user:{}", session.user.id))
        .client(&client.id)
        .user(&session.user.id)
        .detail(serde_json::json!({
            "requested": request.scope.to_string(),
            "granted": granted_now.to_string(),
            "profile": profile,
        }));
    if kind == AuditKind::ConsentDenied {
        event = event.failed();
    }
    ctx.record(event);
    if !answer.allow {
        let url = finish_with_error(
            ctx,
            request,
            ErrorCode::AccessDenied,
            "the user denied the request",
        )
        .await?;
        return Ok(Step::Redirect(url));
    }
    if granted.is_empty() && !request.scope.is_empty() {
        let why = "the user granted none of the requested scopes";
        let url = finish_with_error(ctx, request, ErrorCode::AccessDenied, why).await?;
        return Ok(Step::Redirect(url));
    }
    let now = ctx.clock.now();
    let previous = ctx.store.consent(&session.user.id, &client.id).await?;
    // For the scopes this request asked about, the latest answer wins; others stay as they were.
    let remembered = previous
        .as_ref()
        .map(|p| p.scope.difference(&request.scope))
        .unwrap_or_default()
        .union(&granted);
    // The newest choice wins; without one, the earlier choice stays as long as the scopes still
    // remembered act for a profile.
    let remembered_profile = match &profile {
        Some(profile) => Some(profile.clone()),
        None if binds_profile(ctx, &remembered) => {
            previous.as_ref().and_then(|p| p.profile_id.clone())
        }
        None => None,
    };
    ctx.store
        .put_consent(&ConsentRecord {
            user_id: session.user.id.clone(),
            client_id: client.id.clone(),
            scope: remembered,
            profile_id: remembered_profile,
            created_at: previous.as_ref().map_or(now, |p| p.created_at),
            updated_at: now,
        })
        .await?;
    let url = issue_code_for(ctx, request, session, granted, profile).await?;
    Ok(Step::Redirect(url))
}
