//! A pending authorization request as the browser holds it: sealed (AES-256-GCM, see
//! [`crate::seal`]) into the pages' `request` parameter instead of stored, so that an
//! anonymous `GET /oauth/authorize` writes no row. Any node opens what another sealed; the
//! seal makes the request tamper-proof and unreadable, and the expiry inside it (set from the
//! injected clock) bounds its life. A request that was answered (a code or an error sent to the
//! client) is recorded as spent by its id, once, so that its handle cannot be answered again.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_proto::{ClientId, ScopeSet};
use serde::{Deserialize, Serialize};

use super::{AuthorizeError, PageError};
use crate::hash::SecretHash;
use crate::oauth::Context;
use crate::pkce::ChallengeMethod;
use crate::random::RandomError;
use crate::store::{AuthRequestRecord, CodeChallenge};

/// The seal's purpose: a value sealed for anything else does not open as a request.
const PURPOSE: &str = "portcullis authorization request v1";

/// The longest handle opened. A real one stays far below (`state` and `nonce` are bounded when
/// the request is validated); anything longer is refused before it is decoded.
pub const MAX_HANDLE_LEN: usize = 16 * 1024;

/// The sealed fields, with short names: the handle travels in URLs.
#[derive(Serialize, Deserialize)]
struct Wire {
    i: String,
    c: String,
    r: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    g: bool,
    s: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    st: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    p: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    a: Option<i64>,
    t: i64,
    e: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    l: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
}

impl Wire {
    fn of(request: &AuthRequestRecord) -> Self {
        Self {
            i: request.id.clone(),
            c: request.client_id.as_str().to_owned(),
            r: request.redirect_uri.clone(),
            g: request.redirect_uri_given,
            s: request.scope.to_string(),
            st: request.state.clone(),
            pc: request.challenge.as_ref().map(|c| c.challenge.clone()),
            pm: request
                .challenge
                .as_ref()
                .map(|c| c.method.as_str().to_owned()),
            n: request.nonce.clone(),
            p: request.prompt.clone(),
            a: request.max_age,
            t: request.created_at.0,
            e: request.expires_at.0,
            l: request
                .answered_by
                .as_ref()
                .map(|h| URL_SAFE_NO_PAD.encode(h.as_bytes())),
            k: request.dpop_jkt.clone(),
        }
    }

    fn into_request(self, handle: String) -> Option<AuthRequestRecord> {
        let challenge = match (self.pc, self.pm) {
            (Some(challenge), Some(method)) => Some(CodeChallenge {
                challenge,
                method: ChallengeMethod::parse(&method)?,
            }),
            (None, None) => None,
            _ => return None,
        };
        let answered_by = match self.l {
            Some(text) => Some(SecretHash::from_bytes(&URL_SAFE_NO_PAD.decode(text).ok()?)?),
            None => None,
        };
        Some(AuthRequestRecord {
            id: self.i,
            handle,
            client_id: ClientId::new(self.c),
            redirect_uri: self.r,
            redirect_uri_given: self.g,
            scope: ScopeSet::parse(&self.s).ok()?,
            state: self.st,
            challenge,
            nonce: self.n,
            prompt: self.p,
            max_age: self.a,
            dpop_jkt: self.k,
            created_at: crate::time::UnixTime(self.t),
            expires_at: crate::time::UnixTime(self.e),
            answered_by,
        })
    }
}

/// Seals `request` and stores the result as its handle.
///
/// # Errors
/// When randomness fails.
pub fn seal(
    ctx: &Context<'_>,
    mut request: AuthRequestRecord,
) -> Result<AuthRequestRecord, RandomError> {
    // Serialising strings, numbers and booleans cannot fail (and an empty seal would only not
    // open).
    let plain = serde_json::to_vec(&Wire::of(&request)).unwrap_or_default();
    request.handle = ctx.sealer.seal(ctx.random, PURPOSE, &plain)?;
    Ok(request)
}

/// The request a handle seals, when it was sealed by this cluster, is unaltered and has not
/// expired. Says nothing about whether it was spent (see [`super::pending`]).
#[must_use]
pub fn open(ctx: &Context<'_>, handle: &str) -> Option<AuthRequestRecord> {
    if handle.is_empty() || handle.len() > MAX_HANDLE_LEN {
        return None;
    }
    let plain = ctx.sealer.open(PURPOSE, handle)?;
    let wire: Wire = serde_json::from_slice(&plain).ok()?;
    wire.into_request(handle.to_owned())
        .filter(|r| r.expires_at > ctx.clock.now())
}

/// Records `request` as answered. Exactly one caller wins a race (a conditional insert); the
/// others get [`PageError::UnknownRequest`], as a request answered before.
///
/// # Errors
/// [`PageError::UnknownRequest`] when it was spent already; storage failures.
pub async fn spend(ctx: &Context<'_>, request: &AuthRequestRecord) -> Result<(), AuthorizeError> {
    if ctx
        .store
        .spend_auth_request(&request.id, request.expires_at)
        .await?
    {
        Ok(())
    } else {
        Err(PageError::UnknownRequest.into())
    }
}
