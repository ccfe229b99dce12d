//! Operations on the banking domain, shared by the onboarding pages, the resource API, the
//! admin API and the CLI.

use portcullis_proto::{ClientId, ProfileId, UserId};

use super::iban::sandbox_iban;
use super::kyc::{KycFormError, KycSubmission};
use super::order::{self, Currency, NewOrder, Order, OrderKind, OrderRuleError, OrderState};
use super::profile::{KycState, Profile, ProfileKind};
use super::wallet::WalletError;
use crate::random::{RandomError, SecretGenerator, new_uuid};
use crate::store::{BankStore, IbanRecord, StoreError};
use crate::time::Clock;

/// Settings of the banking domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankingSettings {
    /// Serve the resource API and require onboarding (off when a platform brings its own
    /// resource servers).
    pub enabled: bool,
    /// Approve KYC on submission (the sandbox), or leave it pending for an operator.
    pub kyc_auto_approve: bool,
    /// Let an operator credit profiles ([`fund`]), standing in for incoming transfers. On in the
    /// sandbox, off otherwise: apps never can.
    pub funding: bool,
}

impl Default for BankingSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            kyc_auto_approve: true,
            funding: false,
        }
    }
}

/// The client id that sandbox credits are recorded under (no app places them).
pub const SANDBOX_CLIENT: &str = "sandbox";

/// A banking operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    /// Empty or over-long profile name.
    #[error("enter a name of 1 to 100 characters")]
    Name,
    /// A field of the KYC form is wrong.
    #[error(transparent)]
    Kyc(#[from] KycFormError),
    /// KYC was submitted already (pending or decided).
    #[error("this profile's verification was already submitted")]
    KycSubmitted,
    /// The address or signature is wrong.
    #[error(transparent)]
    Wallet(#[from] WalletError),
    /// The signed message does not answer a challenge issued for this profile.
    #[error(transparent)]
    Proof(#[from] super::ownership::ProofError),
    /// The address is linked to a profile already.
    #[error("this address is already linked to a profile")]
    AddressTaken,
    /// The wallet is not the profile's.
    #[error("no such wallet on this profile")]
    UnknownWallet,
    /// The wallet already has an IBAN.
    #[error("this wallet already has an IBAN")]
    HasIban,
    /// Money needs an approved profile.
    #[error("the profile's KYC is not approved")]
    NotApproved,
    /// The order breaks a rule.
    #[error(transparent)]
    Order(#[from] OrderRuleError),
    /// The idempotency key was used for another request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyConflict,
    /// An app asked to credit money: money arrives from outside, by incoming transfer.
    #[error("apps may place redeem orders only; money arrives by incoming transfer")]
    MoneyInByApp,
    /// Crediting a profile is off on this server (it is not a sandbox).
    #[error(
        "sandbox funding is off on this server: money arrives by incoming transfer (sandbox_funding turns it on in a sandbox)"
    )]
    FundingOff,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// Creates a profile (KYC absent).
///
/// # Errors
/// [`BankError::Name`], storage failures.
pub async fn create_profile(
    store: &dyn BankStore,
    clock: &dyn Clock,
    random: &dyn SecretGenerator,
    user: &UserId,
    kind: ProfileKind,
    name: &str,
) -> Result<Profile, BankError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(BankError::Name);
    }
    let now = clock.now();
    let profile = Profile {
        id: ProfileId::new(new_uuid(random, clock.now_millis())?),
        user_id: user.clone(),
        kind,
        name: name.to_owned(),
        kyc: KycState::Absent,
        created_at: now,
        updated_at: now,
    };
    store.insert_profile(&profile).await?;
    Ok(profile)
}

/// Records a KYC submission: approved at once in the sandbox, pending otherwise.
///
/// # Errors
/// Storage failures.
pub async fn submit_kyc(
    store: &dyn BankStore,
    clock: &dyn Clock,
    settings: BankingSettings,
    profile: &ProfileId,
) -> Result<KycState, BankError> {
    let state = if settings.kyc_auto_approve {
        KycState::Approved
    } else {
        KycState::Pending
    };
    store.set_kyc(profile, state, clock.now()).await?;
    Ok(state)
}

/// Takes the KYC form of a profile whose KYC is absent: checks it and submits it (see
/// [`submit_kyc`]). The answers themselves are not kept: the sandbox records the decision.
///
/// # Errors
/// [`BankError::Kyc`] for a malformed form, [`BankError::KycSubmitted`] when the profile's KYC
/// is not absent, storage failures.
pub async fn submit_kyc_form(
    store: &dyn BankStore,
    clock: &dyn Clock,
    settings: BankingSettings,
    profile: &Profile,
    form: KycSubmission,
) -> Result<KycState, BankError> {
    if profile.kyc != KycState::Absent {
        return Err(BankError::KycSubmitted);
    }
    form.check(profile.kind, clock.now())?;
    submit_kyc(store, clock, settings, &profile.id).await
}

/// Issues a sandbox IBAN for one of the profile's wallets.
///
/// # Errors
/// [`BankError::UnknownWallet`], [`BankError::HasIban`], storage failures.
pub async fn issue_iban(
    store: &dyn BankStore,
    clock: &dyn Clock,
    random: &dyn SecretGenerator,
    profile: &ProfileId,
    wallet: &str,
) -> Result<IbanRecord, BankError> {
    if !store
        .wallets_of(profile)
        .await?
        .iter()
        .any(|w| w.id == wallet)
    {
        return Err(BankError::UnknownWallet);
    }
    if store
        .ibans_of(profile)
        .await?
        .iter()
        .any(|i| i.wallet_id == wallet)
    {
        return Err(BankError::HasIban);
    }
    // 18 random digits: a collision is astronomically unlikely, but a retry costs nothing.
    for _ in 0..3 {
        let record = IbanRecord {
            iban: sandbox_iban(random)?,
            profile_id: profile.clone(),
            wallet_id: wallet.to_owned(),
            created_at: clock.now(),
        };
        match store.insert_iban(&record).await {
            Ok(()) => return Ok(record),
            Err(StoreError::Conflict(_)) => {
                if store
                    .ibans_of(profile)
                    .await?
                    .iter()
                    .any(|i| i.wallet_id == wallet)
                {
                    return Err(BankError::HasIban);
                }
            }
            Err(other) => return Err(other.into()),
        }
    }
    Err(BankError::Store(StoreError::Conflict(
        "could not allocate a unique IBAN".into(),
    )))
}

/// Whether an order was new or a retry of one placed before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Placed now.
    Created,
    /// The same key and request came before: this is that order.
    Replayed,
}

/// Places an app's order for `profile` on behalf of `client`, idempotently: the same key with
/// the same request returns the first order; with another request it is refused. Apps move
/// money out (`redeem`); an `issue` is refused. In the sandbox an order settles at once:
/// processed (balance changed) or rejected (insufficient funds).
///
/// # Errors
/// [`BankError::MoneyInByApp`], [`BankError::Order`], [`BankError::NotApproved`],
/// [`BankError::IdempotencyConflict`], storage failures.
pub async fn place_order(
    store: &dyn BankStore,
    clock: &dyn Clock,
    random: &dyn SecretGenerator,
    client: &ClientId,
    profile: &Profile,
    new: NewOrder,
    key: &str,
) -> Result<(Order, Placement), BankError> {
    // An `issue` order credits the profile with money from nowhere: no app may mint. The
    // order's own rules come first, so a malformed one is told what is wrong with it.
    let new = order::check(new, key)?;
    if new.kind == OrderKind::Issue {
        return Err(BankError::MoneyInByApp);
    }
    settle(store, clock, random, client, profile, new, key).await
}

/// What an operator credits in the sandbox (see [`fund`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// Currency.
    pub currency: Currency,
    /// Amount in minor units.
    pub amount: i64,
    /// The sending account, if the operator names one.
    pub from_iban: Option<String>,
    /// Text on the transfer.
    pub memo: Option<String>,
}

/// Credits `profile` as an incoming transfer would, when `settings.funding` is on (the
/// sandbox): an `issue` order recorded under [`SANDBOX_CLIENT`], processed at once. The same
/// `key` with the same credit answers the first order. The caller records who did it.
///
/// # Errors
/// [`BankError::FundingOff`], the order rules, [`BankError::NotApproved`],
/// [`BankError::IdempotencyConflict`], storage failures.
pub async fn fund(
    store: &dyn BankStore,
    clock: &dyn Clock,
    random: &dyn SecretGenerator,
    settings: BankingSettings,
    profile: &Profile,
    credit: Credit,
    key: &str,
) -> Result<(Order, Placement), BankError> {
    if !settings.funding {
        return Err(BankError::FundingOff);
    }
    let new = NewOrder {
        kind: OrderKind::Issue,
        currency: credit.currency,
        amount: credit.amount,
        counterpart_iban: credit.from_iban,
        memo: credit.memo,
    };
    let client = ClientId::new(SANDBOX_CLIENT);
    settle(store, clock, random, &client, profile, new, key).await
}

/// Checks and settles an order idempotently (see [`place_order`]).
async fn settle(
    store: &dyn BankStore,
    clock: &dyn Clock,
    random: &dyn SecretGenerator,
    client: &ClientId,
    profile: &Profile,
    new: NewOrder,
    key: &str,
) -> Result<(Order, Placement), BankError> {
    let new = order::check(new, key)?;
    let fingerprint = new.fingerprint();
    if let Some(existing) = store.order_by_key(client, &profile.id, key).await? {
        return replay(existing, fingerprint);
    }
    if profile.kyc != KycState::Approved {
        return Err(BankError::NotApproved);
    }
    let now = clock.now();
    let mut order = Order {
        id: new_uuid(random, clock.now_millis())?,
        profile_id: profile.id.clone(),
        client_id: client.clone(),
        kind: new.kind,
        currency: new.currency,
        amount: new.amount,
        counterpart_iban: new.counterpart_iban,
        memo: new.memo,
        state: OrderState::Processed,
        reason: None,
        idempotency_key: key.to_owned(),
        request_hash: fingerprint,
        created_at: now,
        updated_at: now,
    };
    let stored = match store.settle_order(&order).await {
        Ok(true) => Ok(()),
        Ok(false) => {
            order.state = OrderState::Rejected;
            order.reason = Some("insufficient_funds".to_owned());
            store.insert_order(&order).await
        }
        Err(error) => Err(error),
    };
    match stored {
        Ok(()) => Ok((order, Placement::Created)),
        // Another request with the same key won a race: answer as its retry.
        Err(StoreError::Conflict(_)) => match store.order_by_key(client, &profile.id, key).await? {
            Some(existing) => replay(existing, fingerprint),
            None => Err(BankError::IdempotencyConflict),
        },
        Err(other) => Err(other.into()),
    }
}

fn replay(existing: Order, fingerprint: [u8; 32]) -> Result<(Order, Placement), BankError> {
    if existing.request_hash == fingerprint {
        Ok((existing, Placement::Replayed))
    } else {
        Err(BankError::IdempotencyConflict)
    }
}
