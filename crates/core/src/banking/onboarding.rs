//! What a user must have before an app gets a scope: a profile with approved KYC for anything
//! about money, and a wallet with an IBAN for scopes that read or move funds (the Monerium
//! "getting started" steps 3–6).

use portcullis_proto::{ScopeSet, UserId};

use super::profile::{KycState, Profile};
use crate::store::{BankStore, StoreError};

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

/// Whether `scope` reads or moves funds, and so needs a wallet with an IBAN.
#[must_use]
pub fn needs_account(scope: &ScopeSet) -> bool {
    ACCOUNT_SCOPES.iter().any(|s| scope.contains(s))
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

/// Where a user stands for a scope: the profile the next step works on and that step, and the
/// profiles that are ready (those an app asking for the scope may be bound to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The profile furthest along (the oldest of equals); `None` before the first profile.
    pub profile: Option<Profile>,
    /// The first missing step for that profile; `None` when it is ready.
    pub step: Option<Step>,
    /// Every profile of the user that is ready for the scope, oldest first.
    pub ready: Vec<Profile>,
}

/// How far along a profile is; the higher, the fewer steps remain. A rejected KYC ranks below an
/// absent or pending one: it cannot move on.
fn rank(profile: &Profile, step: Option<Step>) -> u8 {
    match step {
        None => 5,
        Some(Step::Iban) => 4,
        Some(Step::Wallet) => 3,
        Some(Step::Kyc) if profile.kyc == KycState::Rejected => 1,
        Some(Step::Kyc) => 2,
        Some(Step::Profile) => 0,
    }
}

/// The first missing step of one profile for `scope` (wallets and IBANs are only looked up
/// when the scope needs them).
///
/// # Errors
/// Storage failures.
pub async fn step_of(
    store: &dyn BankStore,
    profile: &Profile,
    scope: &ScopeSet,
) -> Result<Option<Step>, StoreError> {
    let (has_wallet, has_iban) = if needs_account(scope) && profile.kyc == KycState::Approved {
        (
            !store.wallets_of(&profile.id).await?.is_empty(),
            !store.ibans_of(&profile.id).await?.is_empty(),
        )
    } else {
        (false, false)
    };
    Ok(next_step(
        scope,
        Some(Progress {
            profile,
            has_wallet,
            has_iban,
        }),
    ))
}

/// Where `user` stands for `scope` (see [`Assessment`]).
///
/// # Errors
/// Storage failures.
pub async fn assess(
    store: &dyn BankStore,
    user: &UserId,
    scope: &ScopeSet,
) -> Result<Assessment, StoreError> {
    if !needs_profile(scope) {
        return Ok(Assessment {
            profile: None,
            step: None,
            ready: Vec::new(),
        });
    }
    let mut best: Option<(u8, Profile, Option<Step>)> = None;
    let mut ready = Vec::new();
    for profile in store.profiles_of(user).await? {
        let step = step_of(store, &profile, scope).await?;
        let rank = rank(&profile, step);
        if step.is_none() {
            ready.push(profile.clone());
        }
        if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
            best = Some((rank, profile, step));
        }
    }
    Ok(match best {
        Some((_, profile, step)) => Assessment {
            profile: Some(profile),
            step,
            ready,
        },
        None => Assessment {
            profile: None,
            step: Some(Step::Profile),
            ready,
        },
    })
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

    #[test]
    fn profiles_further_along_rank_higher_and_a_rejection_ranks_low() {
        let absent = profile(KycState::Absent);
        let rejected = profile(KycState::Rejected);
        let approved = profile(KycState::Approved);
        let order = [
            rank(&absent, Some(Step::Profile)),
            rank(&rejected, Some(Step::Kyc)),
            rank(&absent, Some(Step::Kyc)),
            rank(&approved, Some(Step::Wallet)),
            rank(&approved, Some(Step::Iban)),
            rank(&approved, None),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        let scope = ScopeSet::parse("orders:write openid").unwrap();
        assert!(needs_profile(&scope) && needs_account(&scope));
        let scope = ScopeSet::parse("users.profiles:read").unwrap();
        assert!(needs_profile(&scope) && !needs_account(&scope));
    }
}
