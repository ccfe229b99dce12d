//! The scope registry: which scopes exist and how the consent page describes them.

use std::collections::BTreeMap;

use portcullis_proto::{Scope, ScopeSet};

/// The scope that authorizes the admin API. Granted only through client credentials to
/// clients registered as admin, never to users.
pub const ADMIN_SCOPE: &str = "admin";

/// The scopes of a client registered without a scope list (an admin client gets
/// [`ADMIN_SCOPE`] instead): `openid profile email`, the default request of the OpenID Connect
/// libraries (ASP.NET Core, NextAuth, Spring Security, passport, Authlib), so an integrator's
/// first authorization request is not refused. Each still needs the user's consent, and releases
/// only the claims OpenID Connect Core §5.4 names for it.
pub const DEFAULT_CLIENT_SCOPE: &str = "openid profile email";

/// The defaults: what the seeds' flows ask for.
pub const DEFAULT_SCOPES: &[(&str, &str)] = &[
    ("openid", "Confirm who you are when you sign in to the app"),
    ("profile", "See your name"),
    ("email", "See your email address"),
    ("address", "See your postal address"),
    ("phone", "See your phone number"),
    (
        "offline_access",
        "Stay connected to your account when you are not using the app",
    ),
    (
        "profile:read",
        "See your banking profile: its name, type and verification status",
    ),
    ("wallet:read", "See your wallets, IBANs and balances"),
    ("orders:read", "See your orders and payments"),
    (
        "orders:write",
        "Place orders that move money from your account",
    ),
    ("auth.user_identity:read", "See your user id and name"),
    ("users.profiles:read", "See your profiles"),
    ("users.balance:read", "See your balances"),
    (
        "application_access:write",
        "Act as the application itself, without access to your data",
    ),
    (ADMIN_SCOPE, "Administer this Portcullis server"),
];

/// The known scopes and their plain-language descriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRegistry {
    descriptions: BTreeMap<String, String>,
}

impl Default for ScopeRegistry {
    fn default() -> Self {
        Self::new(
            DEFAULT_SCOPES
                .iter()
                .map(|(s, d)| ((*s).to_owned(), (*d).to_owned())),
        )
    }
}

impl ScopeRegistry {
    /// A registry of these scopes (the admin scope is always present).
    pub fn new(entries: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut descriptions: BTreeMap<String, String> = entries.into_iter().collect();
        descriptions
            .entry(ADMIN_SCOPE.to_owned())
            .or_insert_with(|| "Administer this Portcullis server".to_owned());
        Self { descriptions }
    }

    /// The description of `scope`, if it is known.
    #[must_use]
    pub fn describe(&self, scope: &str) -> Option<&str> {
        self.descriptions.get(scope).map(String::as_str)
    }

    /// Every known scope.
    #[must_use]
    pub fn all(&self) -> ScopeSet {
        self.descriptions
            .keys()
            .filter_map(|s| Scope::parse(s).ok())
            .collect()
    }

    /// Every known scope a user may grant (all but `admin`).
    #[must_use]
    pub fn user_grantable(&self) -> ScopeSet {
        self.all()
            .iter()
            .filter(|s| s.as_str() != ADMIN_SCOPE)
            .cloned()
            .collect()
    }

    /// The scopes of `set` the registry does not know.
    #[must_use]
    pub fn unknown(&self, set: &ScopeSet) -> Vec<String> {
        set.iter()
            .filter(|s| !self.descriptions.contains_key(s.as_str()))
            .map(ToString::to_string)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_the_seeds() {
        let registry = ScopeRegistry::default();
        for scope in [
            "openid",
            "profile",
            "email",
            "address",
            "phone",
            "wallet:read",
            "profile:read",
            "orders:read",
            "auth.user_identity:read",
            "application_access:write",
        ] {
            assert!(registry.describe(scope).is_some(), "{scope}");
        }
        assert!(!registry.user_grantable().contains(ADMIN_SCOPE));
        assert!(registry.all().contains(ADMIN_SCOPE));
        assert_eq!(
            registry.unknown(&ScopeSet::parse("openid nope").unwrap()),
            vec!["nope"]
        );
    }
}
