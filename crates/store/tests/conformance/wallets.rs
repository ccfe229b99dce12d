//! Wallets and the IBANs attached to them.

use crate::AnyStore;
use portcullis_core::banking::wallet::Chain;
use portcullis_core::store::{IbanRecord, StoreError, WalletRecord};
use portcullis_core::time::UnixTime;
use portcullis_proto::ProfileId;

use crate::profiles::owned;

/// EIP-55 checksummed addresses (the EIP's own test vectors).
const ADDRESS_A: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const ADDRESS_B: &str = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
const ADDRESS_C: &str = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB";

const IBAN_A: &str = "DE89370400440532013000";
const IBAN_B: &str = "GB82WEST12345698765432";
const IBAN_C: &str = "NL91ABNA0417164300";

pub fn wallet(
    id: &str,
    profile: &str,
    chain: Chain,
    address: &str,
    created_at: i64,
) -> WalletRecord {
    WalletRecord {
        id: id.into(),
        profile_id: ProfileId::new(profile),
        chain,
        address: address.into(),
        created_at: UnixTime(created_at),
    }
}

pub fn iban(iban: &str, profile: &str, wallet: &str, created_at: i64) -> IbanRecord {
    IbanRecord {
        iban: iban.into(),
        profile_id: ProfileId::new(profile),
        wallet_id: wallet.into(),
        created_at: UnixTime(created_at),
    }
}

fn is_conflict(result: &Result<(), StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(_)))
}

pub async fn wallet_round_trip_on_every_chain(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    let addresses = [ADDRESS_A, ADDRESS_B, ADDRESS_C];
    let mut expected = Vec::new();
    for (n, (chain, address)) in Chain::ALL.into_iter().zip(addresses).enumerate() {
        let created_at = 100 + i64::try_from(n).unwrap();
        let w = wallet(&format!("w{n}"), "p1", chain, address, created_at);
        store.insert_wallet(&w).await.unwrap();
        expected.push(w);
    }
    assert_eq!(
        store.wallets_of(&ProfileId::new("p1")).await.unwrap(),
        expected
    );
}

pub async fn same_address_on_the_same_chain_twice_conflicts(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    owned(store, "p2", "u2").await;
    let first = wallet("w1", "p1", Chain::Ethereum, ADDRESS_A, 100);
    store.insert_wallet(&first).await.unwrap();

    let same_profile = store
        .insert_wallet(&wallet("w2", "p1", Chain::Ethereum, ADDRESS_A, 200))
        .await;
    assert!(is_conflict(&same_profile), "{same_profile:?}");
    let other_profile = store
        .insert_wallet(&wallet("w3", "p2", Chain::Ethereum, ADDRESS_A, 200))
        .await;
    assert!(is_conflict(&other_profile), "{other_profile:?}");

    assert_eq!(
        store.wallets_of(&ProfileId::new("p1")).await.unwrap(),
        vec![first]
    );
    assert_eq!(
        store.wallets_of(&ProfileId::new("p2")).await.unwrap(),
        vec![]
    );
}

pub async fn same_address_on_another_chain_is_allowed(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    owned(store, "p2", "u2").await;
    let eth = wallet("w1", "p1", Chain::Ethereum, ADDRESS_A, 100);
    let gnosis = wallet("w2", "p1", Chain::Gnosis, ADDRESS_A, 200);
    let polygon = wallet("w3", "p2", Chain::Polygon, ADDRESS_A, 300);
    for w in [&eth, &gnosis, &polygon] {
        store.insert_wallet(w).await.unwrap();
    }
    assert_eq!(
        store.wallets_of(&ProfileId::new("p1")).await.unwrap(),
        vec![eth, gnosis]
    );
    assert_eq!(
        store.wallets_of(&ProfileId::new("p2")).await.unwrap(),
        vec![polygon]
    );
}

pub async fn wallets_of_profile_oldest_first_then_by_id_and_only_theirs(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    owned(store, "p2", "u1").await;
    let newest = wallet("w-new", "p1", Chain::Ethereum, ADDRESS_A, 300);
    let tied_b = wallet("w-tie-b", "p1", Chain::Ethereum, ADDRESS_B, 200);
    let tied_a = wallet("w-tie-a", "p1", Chain::Gnosis, ADDRESS_B, 200);
    let other = wallet("w-other", "p2", Chain::Ethereum, ADDRESS_C, 100);
    for w in [&newest, &tied_b, &other, &tied_a] {
        store.insert_wallet(w).await.unwrap();
    }
    assert_eq!(
        store.wallets_of(&ProfileId::new("p1")).await.unwrap(),
        vec![tied_a, tied_b, newest]
    );
    assert_eq!(
        store.wallets_of(&ProfileId::new("p2")).await.unwrap(),
        vec![other]
    );
    assert_eq!(
        store.wallets_of(&ProfileId::new("nobody")).await.unwrap(),
        vec![]
    );
}

pub async fn iban_round_trip_oldest_first_and_only_theirs(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    owned(store, "p2", "u2").await;
    for w in [
        wallet("w1", "p1", Chain::Ethereum, ADDRESS_A, 100),
        wallet("w2", "p1", Chain::Gnosis, ADDRESS_A, 100),
        wallet("w3", "p2", Chain::Ethereum, ADDRESS_B, 100),
    ] {
        store.insert_wallet(&w).await.unwrap();
    }
    let later = iban(IBAN_A, "p1", "w1", 300);
    let earlier = iban(IBAN_B, "p1", "w2", 200);
    let theirs = iban(IBAN_C, "p2", "w3", 100);
    for i in [&later, &earlier, &theirs] {
        store.insert_iban(i).await.unwrap();
    }
    assert_eq!(
        store.ibans_of(&ProfileId::new("p1")).await.unwrap(),
        vec![earlier, later]
    );
    assert_eq!(
        store.ibans_of(&ProfileId::new("p2")).await.unwrap(),
        vec![theirs]
    );
    assert_eq!(
        store.ibans_of(&ProfileId::new("nobody")).await.unwrap(),
        vec![]
    );
}

pub async fn same_iban_twice_conflicts(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    owned(store, "p2", "u2").await;
    for w in [
        wallet("w1", "p1", Chain::Ethereum, ADDRESS_A, 100),
        wallet("w2", "p1", Chain::Ethereum, ADDRESS_B, 100),
        wallet("w3", "p2", Chain::Ethereum, ADDRESS_C, 100),
    ] {
        store.insert_wallet(&w).await.unwrap();
    }
    let first = iban(IBAN_A, "p1", "w1", 100);
    store.insert_iban(&first).await.unwrap();

    let same_profile = store.insert_iban(&iban(IBAN_A, "p1", "w2", 200)).await;
    assert!(is_conflict(&same_profile), "{same_profile:?}");
    let other_profile = store.insert_iban(&iban(IBAN_A, "p2", "w3", 200)).await;
    assert!(is_conflict(&other_profile), "{other_profile:?}");

    assert_eq!(
        store.ibans_of(&ProfileId::new("p1")).await.unwrap(),
        vec![first]
    );
    assert_eq!(store.ibans_of(&ProfileId::new("p2")).await.unwrap(), vec![]);
}

pub async fn second_iban_for_one_wallet_conflicts(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    store
        .insert_wallet(&wallet("w1", "p1", Chain::Ethereum, ADDRESS_A, 100))
        .await
        .unwrap();
    let first = iban(IBAN_A, "p1", "w1", 100);
    store.insert_iban(&first).await.unwrap();

    let second = store.insert_iban(&iban(IBAN_B, "p1", "w1", 200)).await;
    assert!(is_conflict(&second), "{second:?}");
    assert_eq!(
        store.ibans_of(&ProfileId::new("p1")).await.unwrap(),
        vec![first]
    );
}
