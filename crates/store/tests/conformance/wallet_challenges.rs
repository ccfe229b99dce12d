//! Wallet-ownership challenges: round trips, single use by a conditional update in the
//! transaction that links the wallet, expiry, racing proofs, and housekeeping.

use crate::AnyStore;
use portcullis_core::banking::wallet::Chain;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{StoreError, WalletChallengeRecord};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ProfileId, UserId};
use tokio::task::JoinSet;

use crate::profiles::owned;
use crate::wallets::wallet;

const ADDRESS: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const ISSUED: i64 = 1_000;
const EXPIRES: i64 = 1_600;

pub fn challenge(nonce: &str, profile: &str, user: &str) -> WalletChallengeRecord {
    WalletChallengeRecord {
        nonce_hash: SecretHash::of(nonce),
        user_id: UserId::new(user),
        profile_id: ProfileId::new(profile),
        chain: Chain::Gnosis,
        address: ADDRESS.into(),
        issued_at: UnixTime(ISSUED),
        expires_at: UnixTime(EXPIRES),
        consumed_at: None,
    }
}

pub async fn wallet_challenge_round_trip_and_unknown_is_none(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    for (n, chain) in Chain::ALL.into_iter().enumerate() {
        let c = WalletChallengeRecord {
            chain,
            ..challenge(&format!("nonce-{n}"), "p1", "u1")
        };
        store.insert_wallet_challenge(&c).await.unwrap();
        assert_eq!(
            store.wallet_challenge(&c.nonce_hash).await.unwrap(),
            Some(c)
        );
    }
    let unknown = SecretHash::of("never-issued");
    assert_eq!(store.wallet_challenge(&unknown).await.unwrap(), None);
}

pub async fn wallet_challenge_links_once_then_is_refused(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    let c = challenge("nonce", "p1", "u1");
    store.insert_wallet_challenge(&c).await.unwrap();
    let first = wallet("w1", "p1", Chain::Gnosis, ADDRESS, ISSUED + 10);
    assert!(
        store
            .link_wallet_with_challenge(&c.nonce_hash, UnixTime(ISSUED + 10), &first)
            .await
            .unwrap()
    );
    let stored = store
        .wallet_challenge(&c.nonce_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.consumed_at, Some(UnixTime(ISSUED + 10)));
    assert_eq!(
        store.wallets_of(&ProfileId::new("p1")).await.unwrap(),
        [first]
    );

    // Used: nothing is written, even for another address.
    let second = wallet("w2", "p1", Chain::Polygon, ADDRESS, ISSUED + 20);
    assert!(
        !store
            .link_wallet_with_challenge(&c.nonce_hash, UnixTime(ISSUED + 20), &second)
            .await
            .unwrap()
    );
    assert_eq!(
        store.wallets_of(&ProfileId::new("p1")).await.unwrap().len(),
        1
    );
    // Unknown: the same.
    assert!(
        !store
            .link_wallet_with_challenge(&SecretHash::of("other"), UnixTime(ISSUED), &second)
            .await
            .unwrap()
    );
}

pub async fn expired_wallet_challenge_cannot_be_used(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    let c = challenge("nonce", "p1", "u1");
    store.insert_wallet_challenge(&c).await.unwrap();
    let w = wallet("w1", "p1", Chain::Gnosis, ADDRESS, EXPIRES);
    assert!(
        !store
            .link_wallet_with_challenge(&c.nonce_hash, UnixTime(EXPIRES), &w)
            .await
            .unwrap()
    );
    assert!(
        store
            .wallets_of(&ProfileId::new("p1"))
            .await
            .unwrap()
            .is_empty()
    );
    let stored = store
        .wallet_challenge(&c.nonce_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.consumed_at, None);
}

pub async fn wallet_challenge_stays_unused_when_the_address_is_taken(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    owned(store, "p2", "u2").await;
    store
        .insert_wallet(&wallet("w0", "p2", Chain::Gnosis, ADDRESS, 500))
        .await
        .unwrap();
    let c = challenge("nonce", "p1", "u1");
    store.insert_wallet_challenge(&c).await.unwrap();
    let w = wallet("w1", "p1", Chain::Gnosis, ADDRESS, ISSUED + 1);
    let taken = store
        .link_wallet_with_challenge(&c.nonce_hash, UnixTime(ISSUED + 1), &w)
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let stored = store
        .wallet_challenge(&c.nonce_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.consumed_at, None, "the transaction rolled back");
    assert!(
        store
            .wallets_of(&ProfileId::new("p1"))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn concurrent_proofs_with_one_challenge_have_one_winner(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    let c = challenge("nonce", "p1", "u1");
    store.insert_wallet_challenge(&c).await.unwrap();
    let mut tasks = JoinSet::new();
    // Each racer links another chain, so only the challenge can stop them.
    for (n, chain) in Chain::ALL.into_iter().cycle().take(12).enumerate() {
        let (store, hash) = (store.clone(), c.nonce_hash.clone());
        tasks.spawn(async move {
            let w = wallet(&format!("w{n}"), "p1", chain, ADDRESS, ISSUED + 1);
            match store
                .link_wallet_with_challenge(&hash, UnixTime(ISSUED + 1), &w)
                .await
            {
                Ok(won) => won,
                // Two racers on one chain: the loser may see the address taken.
                Err(StoreError::Conflict(_)) => false,
                Err(other) => panic!("{other:?}"),
            }
        });
    }
    let mut won = 0;
    while let Some(result) = tasks.join_next().await {
        won += usize::from(result.unwrap());
    }
    assert_eq!(won, 1);
    assert_eq!(
        store.wallets_of(&ProfileId::new("p1")).await.unwrap().len(),
        1
    );
}

pub async fn delete_expired_removes_lapsed_wallet_challenges(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    let old = challenge("old", "p1", "u1");
    let live = WalletChallengeRecord {
        expires_at: UnixTime(EXPIRES + 100),
        ..challenge("live", "p1", "u1")
    };
    store.insert_wallet_challenge(&old).await.unwrap();
    store.insert_wallet_challenge(&live).await.unwrap();
    assert_eq!(
        store.delete_expired(UnixTime(EXPIRES + 1)).await.unwrap(),
        1
    );
    assert_eq!(store.wallet_challenge(&old.nonce_hash).await.unwrap(), None);
    assert_eq!(
        store.wallet_challenge(&live.nonce_hash).await.unwrap(),
        Some(live)
    );
}

pub async fn issuing_past_the_open_cap_retires_the_oldest_open_challenges(store: &AnyStore) {
    use portcullis_core::banking::ownership::OPEN_CHALLENGES;
    owned(store, "p1", "u1").await;
    owned(store, "p2", "u2").await;
    // A used challenge is not open: it neither counts nor is retired.
    let used = challenge("used", "p1", "u1");
    store.insert_wallet_challenge(&used).await.unwrap();
    let linked = wallet("w1", "p1", Chain::Gnosis, ADDRESS, ISSUED + 1);
    assert!(
        store
            .link_wallet_with_challenge(&used.nonce_hash, UnixTime(ISSUED + 1), &linked)
            .await
            .unwrap()
    );
    let other = challenge("other-profile", "p2", "u2");
    store.insert_wallet_challenge(&other).await.unwrap();

    let issued: Vec<_> = (0..=OPEN_CHALLENGES)
        .map(|n| WalletChallengeRecord {
            issued_at: UnixTime(ISSUED + 10 + i64::try_from(n).unwrap()),
            ..challenge(&format!("open-{n}"), "p1", "u1")
        })
        .collect();
    for c in &issued {
        store.insert_wallet_challenge(c).await.unwrap();
    }
    // The oldest open one is gone; the newest OPEN_CHALLENGES remain.
    assert_eq!(
        store.wallet_challenge(&issued[0].nonce_hash).await.unwrap(),
        None
    );
    for c in &issued[1..] {
        assert_eq!(
            store
                .wallet_challenge(&c.nonce_hash)
                .await
                .unwrap()
                .as_ref(),
            Some(c)
        );
    }
    assert!(
        store
            .wallet_challenge(&used.nonce_hash)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.wallet_challenge(&other.nonce_hash).await.unwrap(),
        Some(other)
    );
}
