//! RP-Initiated Logout 1.0: which client asks to end the session, where the browser may be sent
//! afterwards, and whether the session may end without asking the user.
//!
//! The rules, in the order they are checked:
//! - an `id_token_hint` must be an ID token this server signed (signature, `typ`, issuer, a
//!   known and enabled client as audience); an expired one still names the client, since the
//!   relying party usually holds only an old one. An invalid hint is an error, never a redirect.
//! - `client_id`, when sent with a hint, must be the hint's audience.
//! - `post_logout_redirect_uri` needs a client (from `client_id` or the hint) and must be
//!   exactly one the client registered; `state` is then echoed on it.
//! - the session ends without a confirmation page only when the hint names this session (its
//!   `sid`) or, for a hint without `sid`, this session's user, and a `logout_hint`, if any, names
//!   the same user. Anything else is confirmed by the user first.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::client_cache::ClientLookup;
use crate::jwt::{self, JwtKind};
use crate::keys::KeyRing;
use crate::store::StoreError;
use crate::time::UnixTime;
use crate::user::User;
use portcullis_proto::ClientId;

/// The longest `state`, `logout_hint`, `client_id` or `ui_locales` accepted (as
/// [`super::authorize::MAX_STATE_LEN`] for `state`).
pub const MAX_PARAM_LEN: usize = super::authorize::MAX_STATE_LEN;

/// A logout request's parameters (§2), from the query of a GET or the form of a POST.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutRequest {
    /// An ID token the server issued to the client.
    pub id_token_hint: Option<String>,
    /// Which user the relying party believes is logged in (their email or subject).
    pub logout_hint: Option<String>,
    /// The client asking.
    pub client_id: Option<String>,
    /// Where to send the browser afterwards.
    pub post_logout_redirect_uri: Option<String>,
    /// Echoed on the redirect.
    pub state: Option<String>,
    /// Preferred languages; the pages are in English only, so it is accepted and not used.
    pub ui_locales: Option<String>,
}

impl LogoutRequest {
    /// The request with empty parameters treated as absent (forms send empty fields).
    #[must_use]
    pub fn normalized(self) -> Self {
        let given = |v: Option<String>| v.filter(|s| !s.is_empty());
        Self {
            id_token_hint: given(self.id_token_hint),
            logout_hint: given(self.logout_hint),
            client_id: given(self.client_id),
            post_logout_redirect_uri: given(self.post_logout_redirect_uri),
            state: given(self.state),
            ui_locales: given(self.ui_locales),
        }
    }
}

/// Why a logout request is refused. Each is shown on an error page: the browser is never sent
/// to a URI that was not checked.
#[derive(Debug, thiserror::Error)]
pub enum LogoutError {
    /// The hint is not an ID token this server signed for a known client.
    #[error("The id_token_hint is not an ID token issued by this server.")]
    InvalidHint,
    /// `client_id` and the hint's audience differ.
    #[error("The client_id does not match the id_token_hint.")]
    ClientMismatch,
    /// No enabled client has this id.
    #[error("The client_id does not name a registered client.")]
    UnknownClient,
    /// A post-logout redirect URI without a client to check it against.
    #[error("A post_logout_redirect_uri needs a client_id or an id_token_hint.")]
    RedirectWithoutClient,
    /// The URI is not one the client registered.
    #[error("The post_logout_redirect_uri is not registered for this client.")]
    RedirectNotRegistered,
    /// A parameter is longer than [`MAX_PARAM_LEN`].
    #[error("A logout parameter is too long.")]
    TooLong,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a valid hint says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hint {
    sub: String,
    sid: Option<String>,
}

/// `aud` as a string or an array of strings (OpenID Connect Core §2).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct HintClaims {
    iss: String,
    sub: String,
    aud: Audience,
    azp: Option<String>,
    sid: Option<String>,
}

/// A logout request that passed the checks.
#[derive(Debug, Clone)]
pub struct CheckedLogout {
    /// The client asking, when one was named.
    pub client: Option<Arc<Client>>,
    /// The post-logout redirect URI, with `state`, when one was given.
    pub redirect: Option<String>,
    /// The request's parameters as checked, for the confirmation form to carry.
    pub request: LogoutRequest,
    hint: Option<Hint>,
}

/// Verifies a hint's signature and issuer, and reads its client. Expiry is not checked.
fn read_hint(
    keys: &KeyRing,
    issuer: &str,
    now: UnixTime,
    token: &str,
) -> Result<(Hint, ClientId), LogoutError> {
    let (claims, _) = jwt::verify::<HintClaims>(keys, now, JwtKind::Jwt, token)
        .map_err(|_| LogoutError::InvalidHint)?;
    if claims.iss != issuer {
        return Err(LogoutError::InvalidHint);
    }
    let client = match (claims.aud, claims.azp) {
        (Audience::One(aud), _) => aud,
        (Audience::Many(auds), Some(azp)) if auds.contains(&azp) => azp,
        (Audience::Many(mut auds), None) if auds.len() == 1 => auds.remove(0),
        (Audience::Many(_), _) => return Err(LogoutError::InvalidHint),
    };
    Ok((
        Hint {
            sub: claims.sub,
            sid: claims.sid,
        },
        ClientId::new(client),
    ))
}

/// Checks a logout request.
///
/// # Errors
/// See [`LogoutError`].
pub async fn check(
    clients: &dyn ClientLookup,
    keys: &KeyRing,
    issuer: &str,
    now: UnixTime,
    request: LogoutRequest,
) -> Result<CheckedLogout, LogoutError> {
    let request = request.normalized();
    let too_long = [
        &request.logout_hint,
        &request.client_id,
        &request.state,
        &request.ui_locales,
        &request.post_logout_redirect_uri,
    ]
    .into_iter()
    .any(|v| v.as_ref().is_some_and(|v| v.len() > MAX_PARAM_LEN));
    if too_long {
        return Err(LogoutError::TooLong);
    }
    let (hint, hinted_client) = match request.id_token_hint.as_deref() {
        Some(token) => {
            let (hint, client) = read_hint(keys, issuer, now, token)?;
            (Some(hint), Some(client))
        }
        None => (None, None),
    };
    let client_id = match (request.client_id.as_deref(), hinted_client) {
        (Some(named), Some(hinted)) if named != hinted.as_str() => {
            return Err(LogoutError::ClientMismatch);
        }
        (_, Some(hinted)) => Some(hinted),
        (Some(named), None) => Some(ClientId::new(named)),
        (None, None) => None,
    };
    let client = match client_id {
        Some(id) => {
            let found = clients.find_client(&id).await?.filter(|c| c.enabled);
            let Some(found) = found else {
                return Err(if hint.is_some() {
                    LogoutError::InvalidHint
                } else {
                    LogoutError::UnknownClient
                });
            };
            Some(found)
        }
        None => None,
    };
    let redirect = match (request.post_logout_redirect_uri.as_deref(), &client) {
        (None, _) => None,
        (Some(_), None) => return Err(LogoutError::RedirectWithoutClient),
        (Some(uri), Some(client)) if client.allows_post_logout_redirect(uri) => {
            Some(with_state(uri, request.state.as_deref()))
        }
        (Some(_), Some(_)) => return Err(LogoutError::RedirectNotRegistered),
    };
    Ok(CheckedLogout {
        client,
        redirect,
        request,
        hint,
    })
}

impl CheckedLogout {
    /// Whether the session of `user`, whose relying-party id is `sid`, may end without asking:
    /// the hint names this session (or, without `sid`, this user), and any `logout_hint` names
    /// this user by email or subject.
    #[must_use]
    pub fn ends_without_asking(&self, user: &User, sid: &str) -> bool {
        let hint_matches = self.hint.as_ref().is_some_and(|hint| match &hint.sid {
            Some(hinted) => hinted == sid && hint.sub == user.id.as_str(),
            None => hint.sub == user.id.as_str(),
        });
        let logout_hint_matches = self
            .request
            .logout_hint
            .as_deref()
            .is_none_or(|h| h == user.id.as_str() || h.eq_ignore_ascii_case(&user.email));
        hint_matches && logout_hint_matches
    }
}

/// `uri` with `state` added to its query, when there is one.
fn with_state(uri: &str, state: Option<&str>) -> String {
    super::authorize::with_query(uri, &[("state", state)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_added_to_the_query() {
        assert_eq!(
            with_state("https://rp.example/bye", Some("a b&c")),
            "https://rp.example/bye?state=a+b%26c"
        );
        assert_eq!(
            with_state("https://rp.example/bye?x=1", Some("s")),
            "https://rp.example/bye?x=1&state=s"
        );
        assert_eq!(
            with_state("https://rp.example/bye", None),
            "https://rp.example/bye"
        );
    }

    #[test]
    fn empty_parameters_count_as_absent() {
        let request = LogoutRequest {
            state: Some(String::new()),
            client_id: Some("app".into()),
            ..LogoutRequest::default()
        }
        .normalized();
        assert_eq!(request.state, None);
        assert_eq!(request.client_id.as_deref(), Some("app"));
    }
}
