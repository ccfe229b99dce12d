//! Answering the client at its redirect URI: a code (RFC 6749 §4.1.2) or an error
//! (§4.1.2.1), with `state` and `iss` (RFC 9207).

use portcullis_proto::{ErrorCode, ProfileId, ScopeSet, Secret};

use super::{AuthorizeError, ErrorRedirect, LoggedIn, sealed};
use crate::hash::SecretHash;
use crate::oauth::Context;
use crate::random::new_secret;
use crate::store::{AuthRequestRecord, CodeRecord};

/// Ends a request with an error for the client; returns the redirect URL. The request is
/// spent.
///
/// # Errors
/// [`super::PageError::UnknownRequest`] when it was answered already; storage failures.
pub async fn finish_with_error(
    ctx: &Context<'_>,
    request: &AuthRequestRecord,
    error: ErrorCode,
    description: &str,
) -> Result<String, AuthorizeError> {
    sealed::spend(ctx, request).await?;
    let redirect = ErrorRedirect {
        redirect_uri: request.redirect_uri.clone(),
        error,
        description: description.to_owned(),
        state: request.state.clone(),
    };
    Ok(error_url(&redirect, &ctx.settings.issuer))
}

/// Issues a code for `scope` acting for `profile` (which the caller checked is the user's and
/// ready for the scope): the grant and its access tokens carry it as their `profile` claim.
/// Returns the redirect URL; the request is spent, before the code is made, so that of two
/// answers racing (two nodes, a double submit) only one gets a code.
///
/// # Errors
/// [`super::PageError::UnknownRequest`] when it was answered already; storage or randomness
/// failures.
pub async fn issue_code_for(
    ctx: &Context<'_>,
    request: &AuthRequestRecord,
    session: LoggedIn<'_>,
    scope: ScopeSet,
    profile: Option<ProfileId>,
) -> Result<String, AuthorizeError> {
    let code = new_secret(ctx.random)?;
    sealed::spend(ctx, request).await?;
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
        profile_id: profile,
        auth_time: session.auth_time,
        created_at: now,
        expires_at: now.plus(crate::oauth::CODE_TTL_SECONDS),
        redeemed_at: None,
        grant_id: None,
        sid: Some(crate::session::sid(ctx.sealer, session.session)),
        dpop_jkt: request.dpop_jkt.clone(),
    };
    ctx.store.insert_code(&record).await?;
    Ok(success_url(
        &request.redirect_uri,
        &code,
        request.state.as_deref(),
        &ctx.settings.issuer,
    ))
}

/// `redirect_uri` with `pairs` added to its query (those with a value); unchanged when none
/// has one (no empty `?` is added).
pub(crate) fn with_query(redirect_uri: &str, pairs: &[(&str, Option<&str>)]) -> String {
    // The redirect URI was registered as an absolute URI; it parses.
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return redirect_uri.to_owned();
    };
    if pairs.iter().all(|(_, value)| value.is_none()) {
        return redirect_uri.to_owned();
    }
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
    let description = portcullis_proto::safe_description(&redirect.description);
    with_query(
        &redirect.redirect_uri,
        &[
            ("error", Some(redirect.error.as_str())),
            ("error_description", Some(&description)),
            ("state", redirect.state.as_deref()),
            ("iss", Some(issuer)),
        ],
    )
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
}
