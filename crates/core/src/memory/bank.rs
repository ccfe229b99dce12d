//! Profiles, wallets, challenges, IBANs, balances, orders and the audit trail, as
//! `crates/store/src/{banking,wallet_challenges,audit}.rs` keep them.

use async_trait::async_trait;
use portcullis_proto::{ClientId, ProfileId, UserId};

use super::{MemoryStore, Tables, check_failed, conflict, missing_parent, page_of};
use crate::audit::{AuditEvent, AuditFilter};
use crate::banking::order::{Order, OrderKind};
use crate::banking::ownership::OPEN_CHALLENGES;
use crate::banking::profile::{KycState, Profile};
use crate::hash::SecretHash;
use crate::store::{
    AuditStore, Balance, BankStore, IbanRecord, Page, PageRequest, StoreError,
    WalletChallengeRecord, WalletRecord,
};
use crate::time::UnixTime;

impl Tables {
    fn check_profile(&self, profile: &ProfileId, table: &str) -> Result<(), StoreError> {
        if self.profiles.contains_key(profile.as_str()) {
            Ok(())
        } else {
            Err(missing_parent(&format!("{table}.profile_id")))
        }
    }

    /// `INSERT INTO wallets`: its key, its unique (chain, address) and its profile.
    fn check_new_wallet(&self, wallet: &WalletRecord) -> Result<(), StoreError> {
        if self.wallets.contains_key(&wallet.id) {
            return Err(conflict("wallets.id"));
        }
        if self
            .wallets
            .values()
            .any(|w| w.chain == wallet.chain && w.address == wallet.address)
        {
            return Err(conflict("wallets.chain, wallets.address"));
        }
        self.check_profile(&wallet.profile_id, "wallets")
    }

    /// `INSERT INTO orders`: its key, its unique idempotency key, `amount > 0` and its profile.
    fn check_new_order(&self, order: &Order) -> Result<(), StoreError> {
        if self.orders.contains_key(&order.id) {
            return Err(conflict("orders.id"));
        }
        if self.orders.values().any(|o| {
            o.client_id == order.client_id
                && o.profile_id == order.profile_id
                && o.idempotency_key == order.idempotency_key
        }) {
            return Err(conflict(
                "orders.client_id, orders.profile_id, orders.idempotency_key",
            ));
        }
        if order.amount <= 0 {
            return Err(check_failed("orders.amount > 0"));
        }
        self.check_profile(&order.profile_id, "orders")
    }

    /// The balance `order` would leave (credit for issue, debit for redeem): `None` when a
    /// redeem exceeds the balance (the SQL `UPDATE … WHERE amount >= $3` changes no row).
    fn settled_balance(&self, order: &Order) -> Result<Option<i64>, StoreError> {
        let key = (order.profile_id.to_string(), order.currency.as_str());
        let held = self.balances.get(&key).map(|(_, amount)| *amount);
        let after = match (order.kind, held) {
            (OrderKind::Issue, held) => {
                self.check_profile(&order.profile_id, "balances")?;
                held.unwrap_or(0)
                    .checked_add(order.amount)
                    .ok_or_else(|| check_failed("integer overflow"))?
            }
            (OrderKind::Redeem, Some(held)) if held >= order.amount => held - order.amount,
            (OrderKind::Redeem, _) => return Ok(None),
        };
        if after < 0 {
            return Err(check_failed("balances.amount >= 0"));
        }
        Ok(Some(after))
    }
}

/// Profiles ordered as the SQL stores order them: oldest first, then by id.
fn oldest_first(mut profiles: Vec<Profile>) -> Vec<Profile> {
    profiles.sort_by(|a, b| (a.created_at, a.id.as_str()).cmp(&(b.created_at, b.id.as_str())));
    profiles
}

#[async_trait]
impl BankStore for MemoryStore {
    async fn insert_profile(&self, profile: &Profile) -> Result<(), StoreError> {
        let mut t = self.lock();
        if t.profiles.contains_key(profile.id.as_str()) {
            return Err(conflict("profiles.id"));
        }
        if !t.users.contains_key(profile.user_id.as_str()) {
            return Err(missing_parent("profiles.user_id"));
        }
        t.profiles.insert(profile.id.to_string(), profile.clone());
        Ok(())
    }

    async fn profile(&self, id: &ProfileId) -> Result<Option<Profile>, StoreError> {
        Ok(self.lock().profiles.get(id.as_str()).cloned())
    }

    async fn profiles_of(&self, user: &UserId) -> Result<Vec<Profile>, StoreError> {
        let t = self.lock();
        let mine = t.profiles.values().filter(|p| p.user_id == *user);
        Ok(oldest_first(mine.cloned().collect()))
    }

    async fn profiles_granted_to(&self, client: &ClientId) -> Result<Vec<Profile>, StoreError> {
        // The join on (consents.profile_id, consents.user_id) = (profiles.id, profiles.user_id):
        // a consent naming someone else's profile reaches nothing.
        let t = self.lock();
        let granted = t
            .consents
            .values()
            .filter(|c| c.client_id == *client)
            .filter_map(|c| {
                let profile = t.profiles.get(c.profile_id.as_ref()?.as_str())?;
                (profile.user_id == c.user_id).then(|| profile.clone())
            })
            .collect();
        Ok(oldest_first(granted))
    }

    async fn set_kyc(
        &self,
        id: &ProfileId,
        state: KycState,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut t = self.lock();
        let Some(profile) = t.profiles.get_mut(id.as_str()) else {
            return Ok(false);
        };
        profile.kyc = state;
        profile.updated_at = now;
        Ok(true)
    }

    async fn insert_wallet(&self, wallet: &WalletRecord) -> Result<(), StoreError> {
        let mut t = self.lock();
        t.check_new_wallet(wallet)?;
        t.wallets.insert(wallet.id.clone(), wallet.clone());
        Ok(())
    }

    async fn insert_wallet_challenge(
        &self,
        challenge: &WalletChallengeRecord,
    ) -> Result<(), StoreError> {
        let mut t = self.lock();
        if t.wallet_challenges.contains_key(&challenge.nonce_hash) {
            return Err(conflict("wallet_challenges.nonce_hash"));
        }
        if !t.users.contains_key(challenge.user_id.as_str()) {
            return Err(missing_parent("wallet_challenges.user_id"));
        }
        t.check_profile(&challenge.profile_id, "wallet_challenges")?;
        // The profile's open challenges, newest first (as the SQL store orders them).
        let mut open: Vec<(UnixTime, SecretHash)> = t
            .wallet_challenges
            .values()
            .filter(|c| c.profile_id == challenge.profile_id && c.consumed_at.is_none())
            .map(|c| (c.issued_at, c.nonce_hash.clone()))
            .collect();
        open.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| b.1.as_bytes().cmp(a.1.as_bytes()))
        });
        for (_, retired) in open.into_iter().skip(OPEN_CHALLENGES - 1) {
            t.wallet_challenges.remove(&retired);
        }
        t.wallet_challenges
            .insert(challenge.nonce_hash.clone(), challenge.clone());
        Ok(())
    }

    async fn wallet_challenge(
        &self,
        nonce_hash: &SecretHash,
    ) -> Result<Option<WalletChallengeRecord>, StoreError> {
        Ok(self.lock().wallet_challenges.get(nonce_hash).cloned())
    }

    async fn link_wallet_with_challenge(
        &self,
        nonce_hash: &SecretHash,
        now: UnixTime,
        wallet: &WalletRecord,
    ) -> Result<bool, StoreError> {
        // One guard from the condition to the write: of racing proofs with one message, one
        // links; a taken address leaves the challenge unused.
        let mut t = self.lock();
        let usable = t
            .wallet_challenges
            .get(nonce_hash)
            .is_some_and(|c| c.consumed_at.is_none() && c.expires_at > now);
        if !usable {
            return Ok(false);
        }
        t.check_new_wallet(wallet)?;
        if let Some(challenge) = t.wallet_challenges.get_mut(nonce_hash) {
            challenge.consumed_at = Some(now);
        }
        t.wallets.insert(wallet.id.clone(), wallet.clone());
        Ok(true)
    }

    async fn wallets_of(&self, profile: &ProfileId) -> Result<Vec<WalletRecord>, StoreError> {
        let t = self.lock();
        let mut wallets: Vec<WalletRecord> = t
            .wallets
            .values()
            .filter(|w| w.profile_id == *profile)
            .cloned()
            .collect();
        wallets.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(wallets)
    }

    async fn insert_iban(&self, iban: &IbanRecord) -> Result<(), StoreError> {
        let mut t = self.lock();
        if t.ibans.contains_key(&iban.iban) {
            return Err(conflict("ibans.iban"));
        }
        if t.ibans.values().any(|i| i.wallet_id == iban.wallet_id) {
            return Err(conflict("ibans.wallet_id"));
        }
        t.check_profile(&iban.profile_id, "ibans")?;
        if !t.wallets.contains_key(&iban.wallet_id) {
            return Err(missing_parent("ibans.wallet_id"));
        }
        t.ibans.insert(iban.iban.clone(), iban.clone());
        Ok(())
    }

    async fn ibans_of(&self, profile: &ProfileId) -> Result<Vec<IbanRecord>, StoreError> {
        let t = self.lock();
        let mut ibans: Vec<IbanRecord> = t
            .ibans
            .values()
            .filter(|i| i.profile_id == *profile)
            .cloned()
            .collect();
        ibans.sort_by(|a, b| (a.created_at, &a.iban).cmp(&(b.created_at, &b.iban)));
        Ok(ibans)
    }

    async fn balances_of(&self, profile: &ProfileId) -> Result<Vec<Balance>, StoreError> {
        // Keyed by (profile, currency name): in currency order, as `ORDER BY currency`.
        Ok(self
            .lock()
            .balances
            .iter()
            .filter(|((p, _), _)| p == profile.as_str())
            .map(|(_, (currency, amount))| Balance {
                currency: *currency,
                amount: *amount,
            })
            .collect())
    }

    async fn order(&self, profile: &ProfileId, id: &str) -> Result<Option<Order>, StoreError> {
        Ok(self
            .lock()
            .orders
            .get(id)
            .filter(|o| o.profile_id == *profile)
            .cloned())
    }

    async fn order_by_key(
        &self,
        client: &ClientId,
        profile: &ProfileId,
        key: &str,
    ) -> Result<Option<Order>, StoreError> {
        Ok(self
            .lock()
            .orders
            .values()
            .find(|o| {
                o.client_id == *client && o.profile_id == *profile && o.idempotency_key == key
            })
            .cloned())
    }

    async fn orders_of(
        &self,
        profile: &ProfileId,
        page: &PageRequest,
    ) -> Result<Page<Order>, StoreError> {
        let t = self.lock();
        let theirs = t.orders.values().filter(|o| o.profile_id == *profile);
        Ok(page_of(theirs, page, |o| o.id.clone()))
    }

    async fn settle_order(&self, order: &Order) -> Result<bool, StoreError> {
        // The balance check, the change and the order under one guard: concurrent debits
        // cannot overdraw, and a refused order changes no balance.
        let mut t = self.lock();
        let Some(after) = t.settled_balance(order)? else {
            return Ok(false);
        };
        t.check_new_order(order)?;
        let key = (order.profile_id.to_string(), order.currency.as_str());
        t.balances.insert(key, (order.currency, after));
        t.orders.insert(order.id.clone(), order.clone());
        Ok(true)
    }

    async fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        let mut t = self.lock();
        t.check_new_order(order)?;
        t.orders.insert(order.id.clone(), order.clone());
        Ok(())
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        let mut t = self.lock();
        for event in events {
            t.audit_seq += 1;
            let seq = t.audit_seq;
            t.audit.push(AuditEvent {
                seq,
                ..event.clone()
            });
        }
        Ok(())
    }

    async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        // As the SQL filter, where an empty client or user id matches every event.
        let after = filter.after_seq.unwrap_or(0);
        let client = filter.client_id.as_ref().filter(|c| !c.as_str().is_empty());
        let user = filter.user_id.as_ref().filter(|u| !u.as_str().is_empty());
        let limit = usize::try_from(filter.limit.clamp(1, 500)).unwrap_or(500);
        Ok(self
            .lock()
            .audit
            .iter()
            .filter(|e| e.seq > after)
            .filter(|e| filter.kind.is_none_or(|k| e.kind == k))
            .filter(|e| client.is_none_or(|c| e.client_id.as_ref() == Some(c)))
            .filter(|e| user.is_none_or(|u| e.user_id.as_ref() == Some(u)))
            .filter(|e| filter.since.is_none_or(|since| e.at >= since))
            .filter(|e| filter.until.is_none_or(|until| e.at < until))
            .take(limit)
            .cloned()
            .collect())
    }
}
