//! The user's answer on the consent page, including partial grants.

use portcullis_proto::{ErrorCode, Scope, ScopeSet};

use super::Context;
use super::authorize::{
    AuthorizeError, LoggedIn, PageError, Step, finish_with_error, issue_code, login_needed,
};
use crate::audit::AuditKind;
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
}

/// Applies the user's answer: deny sends `access_denied`; allow grants exactly the ticked
/// scopes (a partial grant when some were unticked), remembers them as approved for this
/// client, and sends a code. When the request still needs a login (`prompt=login`, `max_age`)
/// the answer is not taken and the login step is returned: the consent page must not be a way
/// around a required re-authentication.
///
/// # Errors
/// [`PageError::Tampered`] when the form names another client or a scope that was not
/// requested; storage failures.
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
    if let Some(login) = login_needed(request, Some(session), ctx.clock.now()) {
        return Ok(login);
    }
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
    ctx.store
        .put_consent(&ConsentRecord {
            user_id: session.user.id.clone(),
            client_id: client.id.clone(),
            scope: remembered,
            profile_id: previous.as_ref().and_then(|p| p.profile_id.clone()),
            created_at: previous.as_ref().map_or(now, |p| p.created_at),
            updated_at: now,
        })
        .await?;
    let url = issue_code(ctx, request, session, granted).await?;
    Ok(Step::Redirect(url))
}
