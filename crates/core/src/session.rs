//! Browser sessions: the cookie holds a 256-bit random id, the database its SHA-256 digest, so
//! a database leak yields no usable session. Every form carries the session's synchronizer
//! token (CSRF).

use portcullis_proto::{Secret, UserId};
use subtle::ConstantTimeEq;

use crate::hash::SecretHash;
use crate::random::{RandomError, SecretGenerator, new_secret};
use crate::store::{SessionRecord, SessionStore, StoreError};
use crate::time::{Clock, UnixTime};

/// How long a logged-in session lasts.
pub const SESSION_TTL: i64 = 12 * 3600;
/// How long a session without a user lasts (it only carries a CSRF token for the login form).
pub const ANONYMOUS_SESSION_TTL: i64 = 3600;

/// Creates and stores a session; returns the cookie value and the record. Logging in always
/// makes a new session (a new id), so an id fixed before login is worthless after it.
///
/// # Errors
/// Storage or randomness failures.
pub async fn start(
    store: &dyn SessionStore,
    clock: &dyn Clock,
    random: &dyn SecretGenerator,
    user: Option<&UserId>,
) -> Result<(Secret, SessionRecord), SessionError> {
    let id = new_secret(random)?;
    let now = clock.now();
    let record = SessionRecord {
        id_hash: SecretHash::of(id.expose()),
        user_id: user.cloned(),
        csrf_token: new_secret(random)?.expose().to_owned(),
        auth_time: user.map(|_| now),
        created_at: now,
        expires_at: now.plus(if user.is_some() {
            SESSION_TTL
        } else {
            ANONYMOUS_SESSION_TTL
        }),
    };
    store.insert_session(&record).await?;
    Ok((id, record))
}

/// The live session for a cookie value, if any.
///
/// # Errors
/// Storage failures.
pub async fn find(
    store: &dyn SessionStore,
    clock: &dyn Clock,
    cookie: &str,
) -> Result<Option<SessionRecord>, StoreError> {
    let now = clock.now();
    Ok(store
        .session(&SecretHash::of(cookie))
        .await?
        .filter(|s| s.expires_at > now))
}

/// Whether a submitted CSRF token is the session's, compared in constant time.
#[must_use]
pub fn csrf_matches(session: &SessionRecord, submitted: &str) -> bool {
    !submitted.is_empty() && bool::from(session.csrf_token.as_bytes().ct_eq(submitted.as_bytes()))
}

/// Whether the session's login is recent enough for `max_age`.
#[must_use]
pub fn fresh_enough(auth_time: UnixTime, max_age: Option<i64>, now: UnixTime) -> bool {
    max_age.is_none_or(|max| now.0 - auth_time.0 <= max)
}

/// A session could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}
