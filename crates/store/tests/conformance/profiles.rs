//! Profiles: round trips, a user's profiles, KYC changes, and a partner client's reach.

use crate::AnyStore;
use portcullis_core::banking::profile::{KycState, Profile, ProfileKind};
use portcullis_core::store::ConsentRecord;
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, ProfileId, ScopeSet, UserId};

use crate::codes::parties;
use crate::users;

pub const KINDS: [ProfileKind; 2] = [ProfileKind::Personal, ProfileKind::Corporate];
pub const KYC_STATES: [KycState; 4] = [
    KycState::Absent,
    KycState::Pending,
    KycState::Approved,
    KycState::Rejected,
];

/// A personal profile of `user`, KYC approved, created at `created_at`.
pub fn profile(id: &str, user: &str, created_at: i64) -> Profile {
    Profile {
        id: ProfileId::new(id),
        user_id: UserId::new(user),
        kind: ProfileKind::Personal,
        name: format!("Profile {id}"),
        kyc: KycState::Approved,
        created_at: UnixTime(created_at),
        updated_at: UnixTime(created_at + 1),
    }
}

/// Inserts `user` (unless it exists) and then `profile`.
pub async fn insert_with_owner(store: &AnyStore, profile: &Profile) {
    if store.user(&profile.user_id).await.unwrap().is_none() {
        let (id, email) = (
            profile.user_id.as_str(),
            format!("{}@example.com", profile.user_id),
        );
        store.insert_user(&users::user(id, &email)).await.unwrap();
    }
    store.insert_profile(profile).await.unwrap();
}

/// Inserts a profile `id` of `user` (and the user), created at 100.
pub async fn owned(store: &AnyStore, id: &str, user: &str) -> Profile {
    let p = profile(id, user, 100);
    insert_with_owner(store, &p).await;
    p
}

fn consent(user: &str, client: &str, profile: Option<&str>) -> ConsentRecord {
    ConsentRecord {
        user_id: UserId::new(user),
        client_id: ClientId::new(client),
        scope: ScopeSet::parse("openid wallet:read").unwrap(),
        profile_id: profile.map(ProfileId::new),
        created_at: UnixTime(50),
        updated_at: UnixTime(50),
    }
}

fn ids(profiles: &[Profile]) -> Vec<&str> {
    profiles.iter().map(|p| p.id.as_str()).collect()
}

pub async fn profile_round_trip_for_every_kind_and_kyc_state(store: &AnyStore) {
    let mut n = 0;
    for kind in KINDS {
        for kyc in KYC_STATES {
            n += 1;
            let p = Profile {
                kind,
                kyc,
                name: format!("{kind} {kyc} Ltd — ünïcode"),
                ..profile(&format!("p{n}"), "u1", 100 + n)
            };
            insert_with_owner(store, &p).await;
            assert_eq!(store.profile(&p.id).await.unwrap(), Some(p.clone()));
        }
    }
    assert_eq!(n, 8);
    assert_eq!(store.profile(&ProfileId::new("nope")).await.unwrap(), None);
}

pub async fn profiles_of_user_oldest_first_then_by_id_and_only_theirs(store: &AnyStore) {
    let newest = profile("p-new", "u1", 300);
    let oldest = profile("p-old", "u1", 100);
    let tied_b = profile("p-tie-b", "u1", 200);
    let tied_a = profile("p-tie-a", "u1", 200);
    let other = profile("p-other", "u2", 50);
    for p in [&newest, &oldest, &tied_b, &other, &tied_a] {
        insert_with_owner(store, p).await;
    }

    let mine = store.profiles_of(&UserId::new("u1")).await.unwrap();
    assert_eq!(mine, vec![oldest, tied_a, tied_b, newest]);
    let theirs = store.profiles_of(&UserId::new("u2")).await.unwrap();
    assert_eq!(theirs, vec![other]);
    let none = store.profiles_of(&UserId::new("nobody")).await.unwrap();
    assert_eq!(none, vec![]);
}

pub async fn set_kyc_changes_only_state_and_updated_at_of_that_profile(store: &AnyStore) {
    let mut target = profile("p1", "u1", 100);
    target.kyc = KycState::Absent;
    let mut bystander = profile("p2", "u1", 100);
    bystander.kyc = KycState::Absent;
    insert_with_owner(store, &target).await;
    insert_with_owner(store, &bystander).await;

    assert!(
        store
            .set_kyc(&target.id, KycState::Pending, UnixTime(500))
            .await
            .unwrap()
    );
    target.kyc = KycState::Pending;
    target.updated_at = UnixTime(500);
    assert_eq!(
        store.profile(&target.id).await.unwrap(),
        Some(target.clone())
    );

    assert!(
        store
            .set_kyc(&target.id, KycState::Approved, UnixTime(600))
            .await
            .unwrap()
    );
    target.kyc = KycState::Approved;
    target.updated_at = UnixTime(600);
    assert_eq!(store.profile(&target.id).await.unwrap(), Some(target));
    assert_eq!(
        store.profile(&bystander.id).await.unwrap(),
        Some(bystander),
        "another profile is untouched"
    );
}

pub async fn set_kyc_of_unknown_profile_is_false(store: &AnyStore) {
    owned(store, "p1", "u1").await;
    let missing = ProfileId::new("missing");
    assert!(
        !store
            .set_kyc(&missing, KycState::Approved, UnixTime(500))
            .await
            .unwrap()
    );
    assert_eq!(store.profile(&missing).await.unwrap(), None);
}

pub async fn profiles_granted_to_client_are_those_its_consents_are_bound_to(store: &AnyStore) {
    for (client, user) in [("c1", "u1"), ("c2", "u2"), ("c1", "u3"), ("c1", "u4")] {
        parties(store, client, user).await;
    }
    // u1: two profiles, the consent to c1 is bound to the second.
    let p1a = owned(store, "p1a", "u1").await;
    let mut p1b = profile("p1b", "u1", 300);
    p1b.kind = ProfileKind::Corporate;
    store.insert_profile(&p1b).await.unwrap();
    // u2: bound consent, but to c2.
    let p2 = owned(store, "p2", "u2").await;
    // u3: a consent to c1 bound to no profile.
    owned(store, "p3", "u3").await;
    // u4: a bound consent to c1, older profile than p1b.
    let p4 = owned(store, "p4", "u4").await;
    for c in [
        consent("u1", "c1", Some("p1b")),
        consent("u2", "c2", Some("p2")),
        consent("u3", "c1", None),
        consent("u4", "c1", Some("p4")),
    ] {
        store.put_consent(&c).await.unwrap();
    }

    let c1 = store
        .profiles_granted_to(&ClientId::new("c1"))
        .await
        .unwrap();
    assert_eq!(
        c1,
        vec![p4.clone(), p1b],
        "oldest first, only bound profiles"
    );
    let c2 = store
        .profiles_granted_to(&ClientId::new("c2"))
        .await
        .unwrap();
    assert_eq!(c2, vec![p2]);
    let unknown = store
        .profiles_granted_to(&ClientId::new("nobody"))
        .await
        .unwrap();
    assert_eq!(unknown, vec![]);

    // Rebinding u1's consent to the other profile moves c1's reach with it.
    store
        .put_consent(&consent("u1", "c1", Some("p1a")))
        .await
        .unwrap();
    let c1 = store
        .profiles_granted_to(&ClientId::new("c1"))
        .await
        .unwrap();
    assert_eq!(c1, vec![p1a, p4.clone()]);

    // Unbinding it removes u1 from c1's reach.
    store.put_consent(&consent("u1", "c1", None)).await.unwrap();
    let c1 = store
        .profiles_granted_to(&ClientId::new("c1"))
        .await
        .unwrap();
    assert_eq!(ids(&c1), ["p4"]);
}

pub async fn profiles_granted_to_ignores_a_consent_naming_someone_elses_profile(store: &AnyStore) {
    parties(store, "c1", "owner").await;
    parties(store, "c1", "intruder").await;
    owned(store, "p-owner", "owner").await;
    store
        .put_consent(&consent("intruder", "c1", Some("p-owner")))
        .await
        .unwrap();

    let reach = store
        .profiles_granted_to(&ClientId::new("c1"))
        .await
        .unwrap();
    assert_eq!(reach, vec![], "only the owner's consent binds a profile");
}
