//! Racing settlements: concurrent debits cannot overdraw a balance, and an idempotency key
//! admits exactly one order however many requests race for it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::AnyStore;
use portcullis_core::banking::order::{Currency, Order, OrderKind};
use portcullis_core::store::StoreError;
use portcullis_proto::ProfileId;
use tokio::task::JoinSet;

use crate::orders::{account, all_orders, balances, order};

const RACERS: usize = 20;

/// Reads the profile's balances over and over until told to stop; returns the lowest amount
/// it saw.
fn watch_balance(store: &AnyStore, stop: &Arc<AtomicBool>) -> tokio::task::JoinHandle<i64> {
    let (store, stop) = (store.clone(), Arc::clone(stop));
    tokio::spawn(async move {
        let profile = ProfileId::new("p1");
        let mut lowest = i64::MAX;
        while !stop.load(Ordering::SeqCst) {
            for b in store.balances_of(&profile).await.unwrap() {
                lowest = lowest.min(b.amount);
            }
            tokio::task::yield_now().await;
        }
        lowest
    })
}

/// Settles every order at once; returns each order's id with its outcome.
async fn settle_all(
    store: &AnyStore,
    orders: Vec<Order>,
) -> Vec<(String, Result<bool, StoreError>)> {
    let mut tasks = JoinSet::new();
    for o in orders {
        let store = store.clone();
        tasks.spawn(async move {
            let result = store.settle_order(&o).await;
            (o.id, result)
        });
    }
    let mut outcomes = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        outcomes.push(joined.unwrap());
    }
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    outcomes
}

pub async fn concurrent_redeems_never_overdraw_the_balance(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    assert!(
        store
            .settle_order(&order("fund", OrderKind::Issue, 10_000))
            .await
            .unwrap()
    );
    let redeems = (0..RACERS)
        .map(|n| order(&format!("r{n:02}"), OrderKind::Redeem, 1_000))
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_balance(store, &stop);
    let outcomes = settle_all(store, redeems).await;
    stop.store(true, Ordering::SeqCst);
    let lowest = watcher.await.unwrap();

    let mut winners = Vec::new();
    for (id, result) in outcomes {
        match result {
            Ok(true) => winners.push(id),
            Ok(false) => {}
            Err(e) => panic!("redeem {id} failed: {e}"),
        }
    }
    assert_eq!(winners.len(), 10, "{winners:?}");
    assert!(lowest >= 0, "a reader saw the balance at {lowest}");
    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 0)])
    );

    let mut stored: Vec<_> = all_orders(store, "p1")
        .await
        .into_iter()
        .filter(|o| o.kind == OrderKind::Redeem)
        .map(|o| o.id)
        .collect();
    stored.sort();
    assert_eq!(stored, winners, "exactly the winners' orders are stored");
}

/// Races `RACERS` orders of `kind` sharing one idempotency key; checks that one wins, the
/// others conflict, and the balance moved once.
async fn one_key_has_one_winner(store: &AnyStore, kind: OrderKind, before: i64, after: i64) {
    account(store, "p1", "u1", "c1").await;
    if before > 0 {
        let fund = order("fund", OrderKind::Issue, before);
        assert!(store.settle_order(&fund).await.unwrap());
    }
    let racers: Vec<_> = (0..RACERS)
        .map(|n| Order {
            idempotency_key: "the-one-key".into(),
            ..order(&format!("k{n:02}"), kind, 1_000)
        })
        .collect();

    let outcomes = settle_all(store, racers.clone()).await;

    let mut winners = Vec::new();
    for (id, result) in outcomes {
        match result {
            Ok(true) => winners.push(id),
            Err(StoreError::Conflict(_)) => {}
            other => panic!("{id}: expected a win or a conflict, got {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored: Vec<_> = all_orders(store, "p1")
        .await
        .into_iter()
        .filter(|o| o.id != "fund")
        .map(|o| o.id)
        .collect();
    assert_eq!(stored, winners, "one order row, the winner's");
    let by_key = store
        .order_by_key(&racers[0].client_id, &racers[0].profile_id, "the-one-key")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(&by_key.id), winners.first());
    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, after)]),
        "the balance moved once"
    );
}

pub async fn concurrent_issues_with_one_idempotency_key_have_one_winner(store: &AnyStore) {
    one_key_has_one_winner(store, OrderKind::Issue, 0, 1_000).await;
}

pub async fn concurrent_redeems_with_one_idempotency_key_have_one_winner(store: &AnyStore) {
    one_key_has_one_winner(store, OrderKind::Redeem, 10_000, 9_000).await;
}
