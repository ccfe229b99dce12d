//! Racing writers: the conditional updates must let exactly one of them through.

use portcullis_core::hash::SecretHash;
use portcullis_core::store::{
    CodeStore as _, GrantStore as _, RefreshTokenRecord, RefreshTokenStore as _,
};
use portcullis_core::time::UnixTime;
use portcullis_store::SqlStore;
use tokio::task::JoinSet;

use crate::codes::{BEFORE_EXPIRY, code, grant, issue, parties, refresh};

const RACERS: usize = 20;

/// Awaits every task and returns how many answered `true`.
async fn winners(mut tasks: JoinSet<bool>) -> usize {
    let mut won = 0;
    while let Some(result) = tasks.join_next().await {
        won += usize::from(result.unwrap());
    }
    won
}

pub async fn concurrent_redemptions_of_one_code_have_one_winner(store: &SqlStore) {
    parties(store, "c1", "u1").await;
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

pub async fn concurrent_rotations_of_one_token_have_one_winner(store: &SqlStore) {
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
