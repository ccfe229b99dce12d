//! The tokens of one grant: what the token endpoint returned (RFC 6749 §5.1), with the
//! absolute expiry and the granted scope kept beside them.

use std::time::{Duration, SystemTime};

use portcullis_proto::token::TokenResponse;
use portcullis_proto::{ScopeSet, Secret};
use serde::{Deserialize, Serialize};

use crate::clock::{from_unix, secs, unix};
use crate::error::Error;

/// An access token and what came with it: refresh token, ID token, expiry, and the scope the
/// user actually granted.
///
/// Users may grant fewer scopes than the app asked for (Portcullis's consent page has a
/// checkbox per scope): [`TokenSet::scopes`] is what was granted, [`TokenSet::denied_scopes`]
/// what was asked for and not granted. Serializable, so an app can keep it in its own
/// session store; `Debug` never prints the tokens.
///
/// ```
/// use portcullis_client::TokenSet;
///
/// # fn show(tokens: &TokenSet) {
/// if tokens.has_scope("wallet:read") {
///     // show the wallet
/// }
/// for scope in tokens.denied_scopes().iter() {
///     println!("not granted: {scope}");
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<Secret>,
    /// Seconds since the epoch when the token was received.
    received_at: i64,
    /// Seconds since the epoch when the access token expires.
    expires_at: i64,
    scope: ScopeSet,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requested_scope: Option<ScopeSet>,
}

impl TokenSet {
    /// Builds the set from a token response received at `now`. `requested` is the scope the
    /// app asked for, to tell a partial grant; a response without `scope` means the requested
    /// scope was granted (RFC 6749 §5.1).
    ///
    /// # Errors
    /// [`Error::InvalidResponse`] when the token type is not `Bearer` or `DPoP` (a token bound
    /// to the client's [`crate::DpopKey`]) or the scope is malformed.
    pub fn from_response(
        response: TokenResponse,
        now: SystemTime,
        requested: Option<ScopeSet>,
        url: &str,
    ) -> Result<Self, Error> {
        let known = ["bearer", "dpop"];
        if !known
            .iter()
            .any(|t| response.token_type.eq_ignore_ascii_case(t))
        {
            return Err(Error::invalid(
                url,
                format!("token type {:?} is not Bearer or DPoP", response.token_type),
            ));
        }
        if response.access_token.is_empty() {
            return Err(Error::invalid(url, "empty access token"));
        }
        let scope = if response.scope.is_empty() {
            requested.clone().unwrap_or_default()
        } else {
            ScopeSet::parse(&response.scope)
                .map_err(|e| Error::invalid(url, format!("malformed scope: {e}")))?
        };
        let received_at = unix(now);
        let lifetime = i64::try_from(response.expires_in).unwrap_or(i64::MAX);
        Ok(Self {
            access_token: response.access_token,
            refresh_token: response.refresh_token.filter(|t| !t.is_empty()),
            id_token: response.id_token.filter(|t| !t.is_empty()),
            received_at,
            expires_at: received_at.saturating_add(lifetime),
            scope,
            requested_scope: requested,
        })
    }

    /// The access token, for an `Authorization: Bearer` header.
    #[must_use]
    pub fn access_token(&self) -> &Secret {
        &self.access_token
    }

    /// The refresh token, when the client may refresh.
    #[must_use]
    pub fn refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref()
    }

    /// The OpenID Connect ID token, when `openid` was granted (verified by the SDK at the code
    /// exchange).
    #[must_use]
    pub fn id_token(&self) -> Option<&Secret> {
        self.id_token.as_ref()
    }

    /// When the access token expires.
    #[must_use]
    pub fn expires_at(&self) -> SystemTime {
        from_unix(self.expires_at)
    }

    /// How long the access token has left at `now` (zero once expired).
    #[must_use]
    pub fn expires_in(&self, now: SystemTime) -> Duration {
        Duration::from_secs(u64::try_from(self.expires_at - unix(now)).unwrap_or(0))
    }

    /// Whether the access token has expired at `now`.
    #[must_use]
    pub fn is_expired(&self, now: SystemTime) -> bool {
        unix(now) >= self.expires_at
    }

    /// Whether the access token should be renewed at `now`: it expires within `margin`, or
    /// within half its lifetime for tokens shorter than twice the margin (so a 30-second token
    /// is not refreshed on every call).
    #[must_use]
    pub fn needs_refresh(&self, now: SystemTime, margin: Duration) -> bool {
        let lifetime = self.expires_at - self.received_at;
        let margin = secs(margin).min(lifetime / 2);
        unix(now) >= self.expires_at - margin
    }

    /// The scope the access token carries: what the user granted.
    #[must_use]
    pub fn scopes(&self) -> &ScopeSet {
        &self.scope
    }

    /// Whether `scope` was granted.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.contains(scope)
    }

    /// The scope the app asked for, when known.
    #[must_use]
    pub fn requested_scopes(&self) -> Option<&ScopeSet> {
        self.requested_scope.as_ref()
    }

    /// The scopes asked for but not granted (empty when everything was granted or the request
    /// is unknown).
    #[must_use]
    pub fn denied_scopes(&self) -> ScopeSet {
        self.requested_scope
            .as_ref()
            .map(|r| r.difference(&self.scope))
            .unwrap_or_default()
    }

    /// Whether the user granted only part of what was asked for.
    #[must_use]
    pub fn is_partial(&self) -> bool {
        !self.denied_scopes().is_empty()
    }

    /// The set after a refresh: the new access token and scope, the new refresh token if the
    /// server rotated it (else the old one: RFC 6749 §6 lets a server keep it), and the
    /// original request.
    pub(crate) fn refreshed(&self, mut next: Self) -> Self {
        if next.refresh_token.is_none() {
            next.refresh_token.clone_from(&self.refresh_token);
        }
        if next.id_token.is_none() {
            next.id_token.clone_from(&self.id_token);
        }
        next.requested_scope.clone_from(&self.requested_scope);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(scope: &str, expires_in: u64) -> TokenResponse {
        TokenResponse {
            access_token: Secret::new("at-SECRET-1"),
            token_type: "Bearer".into(),
            expires_in,
            refresh_token: Some(Secret::new("rt-SECRET-2")),
            scope: scope.into(),
            id_token: None,
            extra: serde_json::Map::new(),
        }
    }

    fn at(seconds: i64) -> SystemTime {
        from_unix(seconds)
    }

    #[test]
    fn partial_grant_is_visible() {
        let requested = ScopeSet::parse("profile:read wallet:read").ok();
        let tokens =
            TokenSet::from_response(response("wallet:read", 3600), at(1000), requested, "u")
                .unwrap_or_else(|e| panic!("{e}"));
        assert!(tokens.has_scope("wallet:read"));
        assert!(!tokens.has_scope("profile:read"));
        assert!(tokens.is_partial());
        assert_eq!(tokens.denied_scopes().to_string(), "profile:read");
    }

    #[test]
    fn expiry_is_absolute_and_refresh_comes_before_it() {
        let tokens = TokenSet::from_response(response("a", 3600), at(1000), None, "u")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tokens.expires_at(), at(4600));
        assert_eq!(tokens.expires_in(at(4000)), Duration::from_secs(600));
        assert!(!tokens.needs_refresh(at(4539), Duration::from_secs(60)));
        assert!(tokens.needs_refresh(at(4540), Duration::from_secs(60)));
        assert!(!tokens.is_expired(at(4599)));
        assert!(tokens.is_expired(at(4600)));
    }

    #[test]
    fn short_tokens_refresh_at_half_life() {
        let tokens = TokenSet::from_response(response("a", 30), at(0), None, "u")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!tokens.needs_refresh(at(14), Duration::from_secs(60)));
        assert!(tokens.needs_refresh(at(15), Duration::from_secs(60)));
    }

    #[test]
    fn other_token_types_are_refused() {
        let mut mac = response("a", 30);
        mac.token_type = "MAC".into();
        assert!(TokenSet::from_response(mac, at(0), None, "u").is_err());
    }

    #[test]
    fn debug_and_round_trip_keep_tokens_secret_and_whole() {
        let tokens = TokenSet::from_response(response("a b", 30), at(0), None, "u")
            .unwrap_or_else(|e| panic!("{e}"));
        let debug = format!("{tokens:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        let json = serde_json::to_string(&tokens).unwrap_or_default();
        let back: TokenSet = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, tokens);
    }
}
