//! Browser sessions: the cookie holds a 256-bit random id, the database its SHA-256 digest, so
//! a database leak yields no usable session. Every form carries the session's synchronizer
//! token (CSRF).
//!
//! Before login there is no session row: the login and sign-up forms are protected by a
//! signed double-submit cookie instead ([`PreLogin`]), so an anonymous page view writes nothing.

use portcullis_proto::{Secret, UserId};
use subtle::ConstantTimeEq;

use crate::hash::SecretHash;
use crate::random::{RandomError, SecretGenerator, new_secret};
use crate::seal::Sealer;
use crate::store::{SessionRecord, SessionStore, StoreError};
use crate::time::{Clock, UnixTime};

/// How long a logged-in session lasts.
pub const SESSION_TTL: i64 = 12 * 3600;
/// How long a session without a user lasts (it only carries a CSRF token for the login form).
/// No such session is made any more; ones made by earlier versions still work until they end.
pub const ANONYMOUS_SESSION_TTL: i64 = 3600;
/// How long a pre-login cookie lasts (and so a login or sign-up form may stay open).
pub const PRE_LOGIN_TTL: i64 = 3600;

/// The signature purpose of the pre-login cookie.
const PRE_LOGIN_COOKIE: &str = "portcullis pre-login cookie v1";
/// The signature purpose of the form token derived from it.
const PRE_LOGIN_FORM: &str = "portcullis pre-login csrf v1";

/// The CSRF protection of a browser that has no session (OWASP's signed double-submit
/// cookie): the cookie holds a random value and its expiry, signed by the cluster's key; the
/// form token is a second signature over the random value alone. A cross-site page can
/// neither read the cookie nor the token, and cannot make a token for a cookie it chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreLogin {
    /// The cookie value: `RANDOM.EXPIRY.TAG`.
    pub cookie: String,
    /// The token the forms carry.
    pub csrf: String,
    /// When the cookie stops being accepted.
    pub expires_at: UnixTime,
}

impl PreLogin {
    /// A new cookie and its token, valid for [`PRE_LOGIN_TTL`].
    ///
    /// # Errors
    /// When randomness fails.
    pub fn start(
        sealer: &Sealer,
        clock: &dyn Clock,
        random: &dyn SecretGenerator,
    ) -> Result<Self, RandomError> {
        let value = new_secret(random)?;
        let expires_at = clock.now().plus(PRE_LOGIN_TTL);
        Ok(Self {
            cookie: sealer.sign(
                PRE_LOGIN_COOKIE,
                &format!("{}.{}", value.expose(), expires_at.0),
            ),
            csrf: form_token(sealer, value.expose()),
            expires_at,
        })
    }

    /// The cookie's token, when the cookie was signed by this cluster and has not expired.
    #[must_use]
    pub fn of_cookie(sealer: &Sealer, clock: &dyn Clock, cookie: &str) -> Option<Self> {
        let data = sealer.verify(PRE_LOGIN_COOKIE, cookie)?;
        let (value, expiry) = data.rsplit_once('.')?;
        let expires_at = UnixTime(expiry.parse().ok()?);
        (expires_at > clock.now() && !value.is_empty()).then(|| Self {
            cookie: cookie.to_owned(),
            csrf: form_token(sealer, value),
            expires_at,
        })
    }

    /// Whether `submitted` is this cookie's token, compared in constant time.
    #[must_use]
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        !submitted.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(submitted.as_bytes()))
    }
}

/// The form token for a pre-login cookie's random value: only its tag (the value stays in the
/// cookie).
fn form_token(sealer: &Sealer, value: &str) -> String {
    let signed = sealer.sign(PRE_LOGIN_FORM, value);
    let tag = signed.rsplit_once('.').map(|(_, tag)| tag.to_owned());
    tag.unwrap_or(signed)
}

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

/// The signature purpose of session ids given to relying parties.
const SID_PURPOSE: &str = "portcullis sid v1";

/// The session's id as relying parties see it (the ID token's `sid`): a keyed digest of the
/// session's stored digest, the same on every node, which reveals neither the cookie nor the
/// stored digest.
#[must_use]
pub fn sid(sealer: &Sealer, session: &SecretHash) -> String {
    use base64::Engine as _;
    let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(session.as_bytes());
    let signed = sealer.sign(SID_PURPOSE, &digest);
    signed
        .rsplit_once('.')
        .map_or_else(String::new, |(_, tag)| tag.to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;
    use crate::time::ManualClock;

    #[test]
    fn a_pre_login_cookie_gives_its_own_token_until_it_expires() {
        let sealer = Sealer::from_root(&[3u8; 32]);
        let clock = ManualClock::new(UnixTime(1_000));
        let first = PreLogin::start(&sealer, &clock, &OsRandom).unwrap();
        let other = PreLogin::start(&sealer, &clock, &OsRandom).unwrap();
        let opened = PreLogin::of_cookie(&sealer, &clock, &first.cookie).unwrap();
        assert!(opened.csrf_matches(&first.csrf));
        assert!(!opened.csrf_matches(&other.csrf));
        assert!(!opened.csrf_matches(""));
        // Not from another cluster, not altered, not after its expiry.
        assert!(
            PreLogin::of_cookie(&Sealer::from_root(&[4u8; 32]), &clock, &first.cookie).is_none()
        );
        let (value, rest) = first.cookie.split_once('.').unwrap();
        let later = format!("{value}.{}", rest.replacen("4600", "9999", 1));
        assert!(PreLogin::of_cookie(&sealer, &clock, &later).is_none());
        assert!(PreLogin::of_cookie(&sealer, &clock, "forged").is_none());
        clock.advance(PRE_LOGIN_TTL);
        assert!(PreLogin::of_cookie(&sealer, &clock, &first.cookie).is_none());
    }
}
