//! Scopes (RFC 6749 §3.3): space-delimited, case-sensitive tokens.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a scope string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// A scope token holds a character outside NQCHAR (RFC 6749 §3.3).
    #[error("scope token {0:?} contains a character that RFC 6749 §3.3 does not allow")]
    BadCharacter(String),
    /// Two spaces in a row, or a leading or trailing space.
    #[error("scope must be scope tokens separated by single spaces")]
    EmptyToken,
    /// More tokens than any client could be allowed.
    #[error("scope has more than {max} tokens")]
    TooMany {
        /// The limit.
        max: usize,
    },
}

/// The most tokens a scope parameter may carry; far above any registry, it bounds work on
/// hostile input.
pub const MAX_SCOPE_TOKENS: usize = 64;

/// One scope token.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(String);

impl Scope {
    /// Parses one token: one or more of `%x21 / %x23-5B / %x5D-7E` (RFC 6749 §3.3).
    ///
    /// # Errors
    /// [`ScopeError::EmptyToken`] for an empty string, [`ScopeError::BadCharacter`] otherwise.
    pub fn parse(token: &str) -> Result<Self, ScopeError> {
        if token.is_empty() {
            return Err(ScopeError::EmptyToken);
        }
        let nqchar = |b: u8| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b);
        if token.bytes().all(nqchar) {
            Ok(Self(token.to_owned()))
        } else {
            Err(ScopeError::BadCharacter(token.to_owned()))
        }
    }

    /// The token.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of scopes, kept sorted so that its string form is canonical.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// The empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a space-delimited scope parameter. Repeated tokens collapse into one.
    ///
    /// # Errors
    /// See [`ScopeError`].
    pub fn parse(value: &str) -> Result<Self, ScopeError> {
        if value.is_empty() {
            return Ok(Self::new());
        }
        let mut set = BTreeSet::new();
        for (n, token) in value.split(' ').enumerate() {
            if n >= MAX_SCOPE_TOKENS {
                return Err(ScopeError::TooMany {
                    max: MAX_SCOPE_TOKENS,
                });
            }
            set.insert(Scope::parse(token)?);
        }
        Ok(Self(set))
    }

    /// Whether the set holds `scope`.
    #[must_use]
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.as_str() == scope)
    }

    /// Whether every scope of `self` is in `other`.
    #[must_use]
    pub fn is_subset(&self, other: &Self) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes of `self` that are also in `other`.
    #[must_use]
    pub fn intersection(&self, other: &Self) -> Self {
        Self(self.0.intersection(&other.0).cloned().collect())
    }

    /// The scopes of `self` missing from `other`.
    #[must_use]
    pub fn difference(&self, other: &Self) -> Self {
        Self(self.0.difference(&other.0).cloned().collect())
    }

    /// The scopes of either set.
    #[must_use]
    pub fn union(&self, other: &Self) -> Self {
        Self(self.0.union(&other.0).cloned().collect())
    }

    /// Adds a scope.
    pub fn insert(&mut self, scope: Scope) {
        self.0.insert(scope);
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many scopes the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The scopes in canonical (sorted) order.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// The scopes as strings, in canonical order.
    #[must_use]
    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().map(|s| s.0.clone()).collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, scope) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Serialize for ScopeSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ScopeSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_space_delimited_tokens_canonically() {
        let set = ScopeSet::parse("wallet:read profile:read wallet:read").unwrap_or_default();
        assert_eq!(set.to_string(), "profile:read wallet:read");
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn refuses_characters_outside_nqchar() {
        assert!(matches!(
            ScopeSet::parse("a\"b"),
            Err(ScopeError::BadCharacter(_))
        ));
        assert!(matches!(
            ScopeSet::parse("a\\b"),
            Err(ScopeError::BadCharacter(_))
        ));
        assert!(matches!(
            ScopeSet::parse("é"),
            Err(ScopeError::BadCharacter(_))
        ));
    }

    #[test]
    fn refuses_empty_tokens() {
        assert_eq!(ScopeSet::parse("a  b"), Err(ScopeError::EmptyToken));
        assert_eq!(ScopeSet::parse(" a"), Err(ScopeError::EmptyToken));
        assert_eq!(ScopeSet::parse("a "), Err(ScopeError::EmptyToken));
    }

    #[test]
    fn empty_string_is_the_empty_set() {
        assert_eq!(ScopeSet::parse(""), Ok(ScopeSet::new()));
    }

    #[test]
    fn bounds_the_number_of_tokens() {
        let many = (0..=MAX_SCOPE_TOKENS)
            .map(|n| format!("s{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(matches!(
            ScopeSet::parse(&many),
            Err(ScopeError::TooMany { .. })
        ));
    }

    #[test]
    fn set_operations() {
        let a = ScopeSet::parse("a b c").unwrap_or_default();
        let b = ScopeSet::parse("b c d").unwrap_or_default();
        assert_eq!(a.intersection(&b).to_string(), "b c");
        assert_eq!(a.difference(&b).to_string(), "a");
        assert!(ScopeSet::parse("b").unwrap_or_default().is_subset(&a));
    }
}
