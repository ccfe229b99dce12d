//! Balances and orders: settlement credits and debits in one transaction with the order row,
//! a refused or conflicting settlement writes nothing, and lookups stay within their profile.

use std::collections::BTreeMap;

use crate::AnyStore;
use portcullis_core::banking::order::{Currency, Order, OrderKind, OrderState};
use portcullis_core::hash::sha256;
use portcullis_core::store::{PageRequest, StoreError};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, ProfileId};

use crate::codes::parties;
use crate::profiles::{insert_with_owner, profile};

/// When the fixture orders are placed.
pub const PLACED: i64 = 5_000;
const PAYOUT_IBAN: &str = "GB82WEST12345698765432";

/// A processed EUR order of profile `p1` placed by client `c1`, with key `key-{id}`.
pub fn order(id: &str, kind: OrderKind, amount: i64) -> Order {
    Order {
        id: id.into(),
        profile_id: ProfileId::new("p1"),
        client_id: ClientId::new("c1"),
        kind,
        currency: Currency::Eur,
        amount,
        counterpart_iban: Some(PAYOUT_IBAN.into()),
        memo: Some(format!("memo of {id}")),
        state: OrderState::Processed,
        reason: None,
        idempotency_key: format!("key-{id}"),
        request_hash: sha256(id.as_bytes()),
        created_at: UnixTime(PLACED),
        updated_at: UnixTime(PLACED + 1),
    }
}

/// `order` as the same profile's rejected twin (what `insert_order` is for).
pub fn rejected(order: &Order) -> Order {
    Order {
        state: OrderState::Rejected,
        reason: Some("insufficient_funds".into()),
        ..order.clone()
    }
}

/// Inserts client `client`, user `user` and the user's profile `profile`.
pub async fn account(store: &AnyStore, profile_id: &str, user: &str, client: &str) {
    parties(store, client, user).await;
    insert_with_owner(store, &profile(profile_id, user, 100)).await;
}

/// A profile's balances, by currency.
pub async fn balances(store: &AnyStore, profile: &str) -> BTreeMap<Currency, i64> {
    let balances = store.balances_of(&ProfileId::new(profile)).await.unwrap();
    let map: BTreeMap<_, _> = balances.iter().map(|b| (b.currency, b.amount)).collect();
    assert_eq!(map.len(), balances.len(), "one balance per currency");
    map
}

/// Every order of a profile, read page by page.
pub async fn all_orders(store: &AnyStore, profile: &str) -> Vec<Order> {
    let profile = ProfileId::new(profile);
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    let mut all = Vec::new();
    loop {
        let got = store.orders_of(&profile, &page).await.unwrap();
        all.extend(got.items);
        match got.next {
            Some(next) => page.after = Some(next),
            None => return all,
        }
    }
}

/// What the balances must be: processed issues minus processed redeems, per currency.
fn sums_of_processed(orders: &[Order]) -> BTreeMap<Currency, i64> {
    let mut sums = BTreeMap::new();
    for o in orders.iter().filter(|o| o.state == OrderState::Processed) {
        let sign = match o.kind {
            OrderKind::Issue => 1,
            OrderKind::Redeem => -1,
        };
        *sums.entry(o.currency).or_insert(0) += sign * o.amount;
    }
    sums
}

async fn settle(store: &AnyStore, order: &Order) -> bool {
    store.settle_order(order).await.unwrap()
}

pub async fn first_issue_creates_the_balance_and_stores_the_order(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    assert_eq!(balances(store, "p1").await, BTreeMap::new());
    let issue = order("o1", OrderKind::Issue, 10_000);

    assert!(settle(store, &issue).await);

    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 10_000)])
    );
    assert_eq!(
        store.order(&issue.profile_id, &issue.id).await.unwrap(),
        Some(issue.clone()),
        "every field round-trips"
    );

    let bare = Order {
        counterpart_iban: None,
        memo: None,
        currency: Currency::Isk,
        ..order("o2", OrderKind::Issue, 7)
    };
    assert!(settle(store, &bare).await);
    assert_eq!(
        store.order(&bare.profile_id, &bare.id).await.unwrap(),
        Some(bare),
        "optional fields absent round-trip"
    );
    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 10_000), (Currency::Isk, 7)])
    );
}

pub async fn second_issue_adds_to_the_balance(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    assert!(settle(store, &order("o1", OrderKind::Issue, 10_000)).await);
    assert!(settle(store, &order("o2", OrderKind::Issue, 2_550)).await);
    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 12_550)])
    );
    assert_eq!(all_orders(store, "p1").await.len(), 2);
}

pub async fn redeem_within_the_balance_debits_it_down_to_zero(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    assert!(settle(store, &order("o1", OrderKind::Issue, 10_000)).await);
    let part = order("o2", OrderKind::Redeem, 4_000);

    assert!(settle(store, &part).await);
    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 6_000)])
    );
    assert_eq!(
        store.order(&part.profile_id, &part.id).await.unwrap(),
        Some(part)
    );

    let rest = order("o3", OrderKind::Redeem, 6_000);
    assert!(
        settle(store, &rest).await,
        "the whole balance may be redeemed"
    );
    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 0)])
    );
    assert_eq!(
        store.order(&rest.profile_id, &rest.id).await.unwrap(),
        Some(rest)
    );
}

pub async fn redeem_beyond_the_balance_is_false_and_writes_nothing(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    let issue = order("o1", OrderKind::Issue, 5_000);
    assert!(settle(store, &issue).await);

    let too_much = order("o2", OrderKind::Redeem, 5_001);
    assert!(!settle(store, &too_much).await);
    let never_held = Order {
        currency: Currency::Usd,
        ..order("o3", OrderKind::Redeem, 1)
    };
    assert!(!settle(store, &never_held).await);

    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 5_000)]),
        "balance unchanged, and no balance row for the currency never held"
    );
    for refused in [&too_much, &never_held] {
        assert_eq!(
            store.order(&refused.profile_id, &refused.id).await.unwrap(),
            None
        );
        let by_key = store
            .order_by_key(
                &refused.client_id,
                &refused.profile_id,
                &refused.idempotency_key,
            )
            .await
            .unwrap();
        assert_eq!(by_key, None);
    }
    assert_eq!(all_orders(store, "p1").await, vec![issue]);

    // The refused order's key is still free: a smaller redeem with it settles.
    let retry = Order {
        id: "o4".into(),
        amount: 5_000,
        ..too_much
    };
    assert!(settle(store, &retry).await);
    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 0)])
    );
}

pub async fn balances_are_kept_per_currency_and_per_profile(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    account(store, "p2", "u2", "c1").await;
    let in_currency = |id: &str, kind, currency, amount| Order {
        currency,
        ..order(id, kind, amount)
    };
    for o in [
        in_currency("o1", OrderKind::Issue, Currency::Eur, 10_000),
        in_currency("o2", OrderKind::Issue, Currency::Usd, 2_000),
        in_currency("o3", OrderKind::Issue, Currency::Isk, 150),
        in_currency("o4", OrderKind::Redeem, Currency::Usd, 500),
        Order {
            profile_id: ProfileId::new("p2"),
            ..in_currency("o5", OrderKind::Issue, Currency::Gbp, 42)
        },
    ] {
        assert!(settle(store, &o).await, "{o}");
    }
    // A redeem is checked against its own currency's balance only.
    let wrong_currency = in_currency("o6", OrderKind::Redeem, Currency::Usd, 1_501);
    assert!(!settle(store, &wrong_currency).await);

    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([
            (Currency::Eur, 10_000),
            (Currency::Usd, 1_500),
            (Currency::Isk, 150),
        ])
    );
    assert_eq!(
        balances(store, "p2").await,
        BTreeMap::from([(Currency::Gbp, 42)])
    );
    assert_eq!(balances(store, "nobody").await, BTreeMap::new());
}

pub async fn balance_always_equals_processed_issues_minus_processed_redeems(store: &AnyStore) {
    use Currency::{Eur, Gbp, Isk, Usd};
    use OrderKind::{Issue, Redeem};
    account(store, "p1", "u1", "c1").await;
    // (kind, currency, amount, settles?)
    let steps = [
        (Issue, Eur, 10_000, true),
        (Redeem, Eur, 2_500, true),
        (Redeem, Eur, 8_000, false),
        (Issue, Usd, 300, true),
        (Redeem, Usd, 301, false),
        (Redeem, Eur, 7_500, true),
        (Redeem, Eur, 1, false),
        (Redeem, Gbp, 1, false),
        (Issue, Eur, 1, true),
        (Issue, Isk, 1_000_000_000, true),
        (Redeem, Usd, 300, true),
        (Issue, Eur, 99, true),
        (Redeem, Eur, 101, false),
        (Redeem, Eur, 100, true),
        (Redeem, Isk, 999_999_999, true),
    ];
    let mut model: BTreeMap<Currency, i64> = BTreeMap::new();
    for (n, (kind, currency, amount, settles)) in steps.into_iter().enumerate() {
        let o = Order {
            currency,
            ..order(&format!("o{n:02}"), kind, amount)
        };
        let settled = settle(store, &o).await;
        assert_eq!(settled, settles, "step {n}: {o}");
        if settled {
            let sign = if kind == Issue { 1 } else { -1 };
            *model.entry(currency).or_insert(0) += sign * amount;
        } else {
            // As the order service does: the refusal is recorded, rejected.
            store.insert_order(&rejected(&o)).await.unwrap();
        }

        let stored = all_orders(store, "p1").await;
        assert_eq!(stored.len(), n + 1, "step {n}: one order row per step");
        let now = balances(store, "p1").await;
        assert_eq!(now, sums_of_processed(&stored), "step {n}");
        assert_eq!(now, model, "step {n}");
    }
    assert_eq!(
        model,
        BTreeMap::from([(Eur, 0), (Usd, 0), (Isk, 1)]),
        "the table ends where it should"
    );
}

pub async fn settle_with_a_taken_idempotency_key_conflicts_and_rolls_back(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    let first = Order {
        idempotency_key: "k".into(),
        ..order("o1", OrderKind::Issue, 1_000)
    };
    assert!(settle(store, &first).await);

    let same_key_issue = Order {
        id: "o2".into(),
        amount: 500,
        ..first.clone()
    };
    let same_key_redeem = Order {
        id: "o3".into(),
        kind: OrderKind::Redeem,
        amount: 400,
        ..first.clone()
    };
    for again in [&same_key_issue, &same_key_redeem] {
        let result = store.settle_order(again).await;
        assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
        assert_eq!(
            balances(store, "p1").await,
            BTreeMap::from([(Currency::Eur, 1_000)]),
            "the balance change of {again} was rolled back"
        );
        assert_eq!(
            store.order(&again.profile_id, &again.id).await.unwrap(),
            None
        );
    }
    assert_eq!(
        store
            .order_by_key(&first.client_id, &first.profile_id, "k")
            .await
            .unwrap(),
        Some(first.clone())
    );

    // Nothing was left half-done: the next settlement starts clean and commits alone.
    assert!(settle(store, &order("o4", OrderKind::Issue, 1)).await);
    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 1_001)])
    );
    let ids: Vec<_> = all_orders(store, "p1")
        .await
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids, ["o1", "o4"]);
}

pub async fn idempotency_key_is_scoped_to_client_and_profile(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    account(store, "p2", "u2", "c2").await;
    let keyed = |id: &str, profile: &str, client: &str| Order {
        profile_id: ProfileId::new(profile),
        client_id: ClientId::new(client),
        idempotency_key: "shared".into(),
        ..order(id, OrderKind::Issue, 100)
    };
    assert!(settle(store, &keyed("o1", "p1", "c1")).await);
    assert!(
        settle(store, &keyed("o2", "p1", "c2")).await,
        "another client"
    );
    assert!(
        settle(store, &keyed("o3", "p2", "c1")).await,
        "another profile"
    );
    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 200)])
    );
    assert_eq!(
        balances(store, "p2").await,
        BTreeMap::from([(Currency::Eur, 100)])
    );
}

pub async fn settle_with_a_taken_order_id_conflicts_and_rolls_back(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    let first = order("o1", OrderKind::Issue, 1_000);
    assert!(settle(store, &first).await);

    let same_id = Order {
        idempotency_key: "another-key".into(),
        amount: 300,
        ..first.clone()
    };
    let result = store.settle_order(&same_id).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 1_000)])
    );
    assert_eq!(
        store.order(&first.profile_id, &first.id).await.unwrap(),
        Some(first)
    );
}

pub async fn insert_order_stores_a_rejected_order_without_touching_balances(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    assert!(settle(store, &order("o1", OrderKind::Issue, 1_000)).await);
    let refused_redeem = rejected(&order("o2", OrderKind::Redeem, 5_000));
    let refused_issue = Order {
        currency: Currency::Usd,
        reason: Some("kyc_not_approved".into()),
        ..rejected(&order("o3", OrderKind::Issue, 700))
    };

    for o in [&refused_redeem, &refused_issue] {
        store.insert_order(o).await.unwrap();
        assert_eq!(
            store.order(&o.profile_id, &o.id).await.unwrap(),
            Some(o.clone())
        );
        let by_key = store
            .order_by_key(&o.client_id, &o.profile_id, &o.idempotency_key)
            .await
            .unwrap();
        assert_eq!(by_key, Some(o.clone()));
    }
    assert_eq!(
        balances(store, "p1").await,
        BTreeMap::from([(Currency::Eur, 1_000)]),
        "no debit, no credit, no USD balance row"
    );
    assert_eq!(all_orders(store, "p1").await.len(), 3);
}

pub async fn insert_order_with_a_taken_idempotency_key_conflicts(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    let first = order("o1", OrderKind::Issue, 1_000);
    assert!(settle(store, &first).await);
    let late = rejected(&Order {
        id: "o2".into(),
        ..first.clone()
    });
    let result = store.insert_order(&late).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(all_orders(store, "p1").await, vec![first]);
}

pub async fn order_is_found_only_under_its_own_profile(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    account(store, "p2", "u2", "c1").await;
    let mine = order("o1", OrderKind::Issue, 1_000);
    assert!(settle(store, &mine).await);

    let (p1, p2) = (ProfileId::new("p1"), ProfileId::new("p2"));
    assert_eq!(store.order(&p1, "o1").await.unwrap(), Some(mine));
    assert_eq!(store.order(&p2, "o1").await.unwrap(), None);
    assert_eq!(store.order(&p1, "missing").await.unwrap(), None);
}

pub async fn order_by_key_needs_client_profile_and_key_to_match(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    account(store, "p2", "u2", "c2").await;
    let o = Order {
        idempotency_key: "k1".into(),
        ..order("o1", OrderKind::Issue, 1_000)
    };
    assert!(settle(store, &o).await);

    let (c1, c2) = (ClientId::new("c1"), ClientId::new("c2"));
    let (p1, p2) = (ProfileId::new("p1"), ProfileId::new("p2"));
    assert_eq!(store.order_by_key(&c1, &p1, "k1").await.unwrap(), Some(o));
    assert_eq!(store.order_by_key(&c2, &p1, "k1").await.unwrap(), None);
    assert_eq!(store.order_by_key(&c1, &p2, "k1").await.unwrap(), None);
    assert_eq!(store.order_by_key(&c1, &p1, "k2").await.unwrap(), None);
    assert_eq!(store.order_by_key(&c1, &p1, "K1").await.unwrap(), None);
}

pub async fn orders_of_profile_in_pages_by_id(store: &AnyStore) {
    account(store, "p1", "u1", "c1").await;
    account(store, "p2", "u2", "c1").await;
    // Placed out of id order, and at times that disagree with it.
    for (n, id) in ["o3", "o1", "o5", "o2", "o4"].into_iter().enumerate() {
        let o = Order {
            created_at: UnixTime(PLACED - i64::try_from(n).unwrap()),
            ..order(id, OrderKind::Issue, 100)
        };
        assert!(settle(store, &o).await);
    }
    // Another profile's orders sort between and around them.
    for id in ["o0", "o25", "o9"] {
        let theirs = Order {
            profile_id: ProfileId::new("p2"),
            ..order(id, OrderKind::Issue, 100)
        };
        assert!(settle(store, &theirs).await);
    }

    let p1 = ProfileId::new("p1");
    let mut pages = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let got = store.orders_of(&p1, &page).await.unwrap();
        let ids: Vec<_> = got.items.iter().map(|o| o.id.clone()).collect();
        pages.push((ids, got.next.clone()));
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    let page = |ids: &[&str], next: Option<&str>| {
        (
            ids.iter().map(|&s| s.to_owned()).collect::<Vec<_>>(),
            next.map(str::to_owned),
        )
    };
    assert_eq!(
        pages,
        [
            page(&["o1", "o2"], Some("o2")),
            page(&["o3", "o4"], Some("o4")),
            page(&["o5"], None),
        ]
    );

    // A page that ends exactly at the last order has no next cursor.
    let exact = store
        .orders_of(
            &p1,
            &PageRequest {
                after: Some("o3".into()),
                limit: 2,
            },
        )
        .await
        .unwrap();
    let ids: Vec<_> = exact.items.iter().map(|o| o.id.as_str()).collect();
    assert_eq!((ids, exact.next), (vec!["o4", "o5"], None));

    let everything = all_orders(store, "p2").await;
    let ids: Vec<_> = everything.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["o0", "o25", "o9"]);
    assert_eq!(all_orders(store, "nobody").await, vec![]);
}
