//! Racing writers: the conditional updates must let exactly one of them through.

use crate::AnyStore;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{Ending, RefreshTokenRecord};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, GrantId, UserId};
use tokio::task::JoinSet;

use crate::codes::{BEFORE_EXPIRY, code, grant, issue, redeemable, refresh};

/// How many callers race in each race test.
pub const RACERS: usize = 20;

/// Awaits every task and returns how many answered `true`.
pub async fn winners(mut tasks: JoinSet<bool>) -> usize {
    let mut won = 0;
    while let Some(result) = tasks.join_next().await {
        won += usize::from(result.unwrap());
    }
    won
}

pub async fn concurrent_redemptions_of_one_code_have_one_winner(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    let c = code("c", "c1", "u1");
    store.insert_code(&c).await.unwrap();
    let grants: Vec<_> = (0..RACERS)
        .map(|n| grant(&format!("g{n}"), "c1", "u1"))
        .collect();

    let mut tasks = JoinSet::new();
    for (n, g) in grants.iter().cloned().enumerate() {
        let (store, hash) = (store.clone(), c.hash.clone());
        tasks.spawn(async move {
            let r = refresh(&format!("r{n}"), &g);
            let now = UnixTime(BEFORE_EXPIRY);
            store.redeem_code(&hash, now, &g, Some(&r)).await.unwrap()
        });
    }
    assert_eq!(winners(tasks).await, 1);

    let mut stored = Vec::new();
    for (n, g) in grants.iter().enumerate() {
        let has_grant = store.grant(&g.id).await.unwrap().is_some();
        let has_refresh = store
            .refresh_token(&SecretHash::of(&format!("r{n}")))
            .await
            .unwrap();
        assert_eq!(
            has_grant,
            has_refresh.is_some(),
            "grant g{n} without its token or back"
        );
        if has_grant {
            stored.push(g.id.clone());
        }
    }
    assert_eq!(stored.len(), 1, "{stored:?}");
    let redeemed = store.code(&c.hash).await.unwrap().unwrap();
    assert_eq!(
        redeemed.grant_id.as_ref(),
        stored.first(),
        "the code names the winner"
    );
}

pub async fn concurrent_rotations_of_one_token_have_one_winner(store: &AnyStore) {
    let g = grant("g1", "c1", "u1");
    let old = refresh("r-old", &g);
    issue(store, &g, Some(&old)).await;
    let now = old.created_at.0 + 100;
    let successors: Vec<_> = (0..RACERS)
        .map(|n| RefreshTokenRecord {
            hash: SecretHash::of(&format!("r{n}")),
            created_at: UnixTime(now),
            ..old.clone()
        })
        .collect();

    let mut tasks = JoinSet::new();
    for new in successors.clone() {
        let (store, old) = (store.clone(), old.hash.clone());
        tasks.spawn(async move {
            store
                .rotate_refresh_token(&old, UnixTime(now), &new)
                .await
                .unwrap()
        });
    }
    assert_eq!(winners(tasks).await, 1);

    let mut stored = 0;
    for new in &successors {
        stored += usize::from(store.refresh_token(&new.hash).await.unwrap().is_some());
    }
    assert_eq!(stored, 1);
    let rotated = store.refresh_token(&old.hash).await.unwrap().unwrap();
    assert_eq!(rotated.rotated_at, Some(UnixTime(now)));
}

pub async fn redemptions_racing_a_revocation_leave_no_live_grant(store: &AnyStore) {
    // Red team: the app keeps codes and redeems them while the user revokes it. Whatever the
    // interleaving, once the revocation returns no grant of that app may be live.
    for round in 0..5 {
        redeemable(store, "c1", "u1").await;
        let codes: Vec<_> = (0..RACERS)
            .map(|n| code(&format!("c{round}-{n}"), "c1", "u1"))
            .collect();
        for c in &codes {
            store.insert_code(c).await.unwrap();
        }
        let mut tasks = JoinSet::new();
        for (n, c) in codes.iter().enumerate() {
            let (store, hash) = (store.clone(), c.hash.clone());
            let g = grant(&format!("g{round}-{n}"), "c1", "u1");
            tasks.spawn(async move {
                let r = refresh(&format!("r{round}-{n}"), &g);
                let now = UnixTime(BEFORE_EXPIRY);
                store.redeem_code(&hash, now, &g, Some(&r)).await.unwrap()
            });
        }
        let ending = Ending::App {
            user: UserId::new("u1"),
            client: ClientId::new("c1"),
        };
        store
            .end_access(&ending, UnixTime(BEFORE_EXPIRY))
            .await
            .unwrap();
        let won = winners(tasks).await;
        for n in 0..RACERS {
            if let Some(g) = store
                .grant(&GrantId::new(format!("g{round}-{n}")))
                .await
                .unwrap()
            {
                assert!(
                    g.revoked_at.is_some(),
                    "round {round}: grant {n} outlived the revocation ({won} redeemed)"
                );
            }
        }
        // Every code was either redeemed before the revocation or ended by it.
        for c in &codes {
            let left = store.code(&c.hash).await.unwrap();
            assert!(
                left.is_none_or(|c| c.redeemed_at.is_some()),
                "round {round}"
            );
        }
    }
}
