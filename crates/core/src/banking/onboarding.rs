//! What a user must have before an app gets a scope: a profile with approved KYC for anything
//! about money, and a wallet with an IBAN for scopes that read or move funds (the Monerium
//! "getting started" steps 3–6).

use portcullis_proto::ScopeSet;

use super::profile::{KycState, Profile};

/// Scopes that read or act on a profile.
const PROFILE_SCOPES: &[&str] = &[
    "profile:read",
    "wallet:read",
    "orders:read",
    "orders:write",
    "users.profiles:read",
    "users.balance:read",
];
/// Scopes that need a wallet with an IBAN.
const ACCOUNT_SCOPES: &[&str] = &[
    "wallet:read",
    "orders:read",
    "orders:write",
    "users.balance:read",
];

/// The next onboarding step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Create a profile.
    Profile,
    /// Submit KYC (or wait for its approval).
    Kyc,
    /// Link a wallet by signing.
    Wallet,
    /// Get an IBAN for the wallet.
    Iban,
}

impl Step {
    /// The page path of the step.
    #[must_use]
    pub const fn path(self) -> &'static str {
        match self {
            Self::Profile => "/onboarding/profile",
            Self::Kyc => "/onboarding/kyc",
            Self::Wallet => "/onboarding/wallet",
            Self::Iban => "/onboarding/iban",
        }
    }
}

/// Whether `scope` involves a profile at all.
#[must_use]
pub fn needs_profile(scope: &ScopeSet) -> bool {
    PROFILE_SCOPES.iter().any(|s| scope.contains(s))
}

/// What the user has, for one profile.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// The profile.
    pub profile: &'a Profile,
    /// Whether it has a linked wallet.
    pub has_wallet: bool,
    /// Whether a wallet of it has an IBAN.
    pub has_iban: bool,
}

/// The first missing step for `scope`, given the user's best profile (`None`: no profile).
/// `Ok(None)` when nothing is missing.
#[must_use]
pub fn next_step(scope: &ScopeSet, progress: Option<Progress<'_>>) -> Option<Step> {
    if !needs_profile(scope) {
        return None;
    }
    let Some(progress) = progress else {
        return Some(Step::Profile);
    };
    if progress.profile.kyc != KycState::Approved {
        return Some(Step::Kyc);
    }
    if ACCOUNT_SCOPES.iter().any(|s| scope.contains(s)) {
        if !progress.has_wallet {
            return Some(Step::Wallet);
        }
        if !progress.has_iban {
            return Some(Step::Iban);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::banking::profile::ProfileKind;
    use crate::time::UnixTime;
    use portcullis_proto::{ProfileId, UserId};

    fn profile(kyc: KycState) -> Profile {
        Profile {
            id: ProfileId::new("p"),
            user_id: UserId::new("u"),
            kind: ProfileKind::Personal,
            name: "A".into(),
            kyc,
            created_at: UnixTime(0),
            updated_at: UnixTime(0),
        }
    }

    #[test]
    fn steps_in_order() {
        let wallet = ScopeSet::parse("wallet:read").unwrap();
        assert_eq!(
            next_step(&ScopeSet::parse("openid email").unwrap(), None),
            None
        );
        assert_eq!(next_step(&wallet, None), Some(Step::Profile));
        let pending = profile(KycState::Pending);
        assert_eq!(
            next_step(
                &wallet,
                Some(Progress {
                    profile: &pending,
                    has_wallet: true,
                    has_iban: true
                })
            ),
            Some(Step::Kyc)
        );
        let approved = profile(KycState::Approved);
        let progress = |w, i| {
            Some(Progress {
                profile: &approved,
                has_wallet: w,
                has_iban: i,
            })
        };
        assert_eq!(
            next_step(&wallet, progress(false, false)),
            Some(Step::Wallet)
        );
        assert_eq!(next_step(&wallet, progress(true, false)), Some(Step::Iban));
        assert_eq!(next_step(&wallet, progress(true, true)), None);
        // Profile data alone needs no wallet.
        assert_eq!(
            next_step(
                &ScopeSet::parse("profile:read").unwrap(),
                progress(false, false)
            ),
            None
        );
    }
}
