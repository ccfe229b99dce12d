use crate::AnyStore;
use portcullis_core::hash::SecretHash;
use portcullis_core::pkce::ChallengeMethod;
use portcullis_core::store::{
    CodeChallenge, CodeRecord, ConsentRecord, Ended, Ending, GrantRecord, RefreshTokenRecord,
    StoreError,
};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, GrantId, ProfileId, ScopeSet, UserId};

use crate::{clients, users};

/// Issue time of the fixtures; codes live 60 seconds.
pub const ISSUED: i64 = 1_000;
/// When the fixture codes expire.
pub const EXPIRES: i64 = ISSUED + 60;
/// A moment at which the fixture codes are still valid.
pub const BEFORE_EXPIRY: i64 = ISSUED + 10;

/// Inserts the client and user rows that codes and grants refer to.
pub async fn parties(store: &AnyStore, client: &str, user: &str) {
    if store
        .client(&ClientId::new(client))
        .await
        .unwrap()
        .is_none()
    {
        store.insert_client(&clients::client(client)).await.unwrap();
    }
    if store.user(&UserId::new(user)).await.unwrap().is_none() {
        let email = format!("{user}@example.com");
        store.insert_user(&users::user(user, &email)).await.unwrap();
    }
}

/// [`parties`], and the user's consent to the client that a code needs to be redeemed.
pub async fn redeemable(store: &AnyStore, client: &str, user: &str) {
    parties(store, client, user).await;
    let consent = ConsentRecord {
        user_id: UserId::new(user),
        client_id: ClientId::new(client),
        scope: ScopeSet::parse("openid wallet:read").unwrap(),
        profile_id: None,
        created_at: UnixTime(ISSUED - 5),
        updated_at: UnixTime(ISSUED - 5),
    };
    store.put_consent(&consent).await.unwrap();
}

/// A fresh, unredeemed code with every optional field set.
pub fn code(secret: &str, client: &str, user: &str) -> CodeRecord {
    CodeRecord {
        hash: SecretHash::of(secret),
        client_id: ClientId::new(client),
        user_id: UserId::new(user),
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_given: true,
        scope: ScopeSet::parse("openid wallet:read").unwrap(),
        challenge: Some(CodeChallenge {
            challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            method: ChallengeMethod::S256,
        }),
        nonce: Some("n-0S6_WzA2Mj".into()),
        profile_id: Some(ProfileId::new("p1")),
        auth_time: UnixTime(ISSUED - 5),
        created_at: UnixTime(ISSUED),
        expires_at: UnixTime(EXPIRES),
        redeemed_at: None,
        grant_id: None,
        sid: Some("c2lkLW9mLXRoZS1zZXNzaW9u".into()),
        dpop_jkt: Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs".into()),
    }
}

/// A live grant, as a code redemption creates it.
pub fn grant(id: &str, client: &str, user: &str) -> GrantRecord {
    GrantRecord {
        id: GrantId::new(id),
        user_id: UserId::new(user),
        client_id: ClientId::new(client),
        scope: ScopeSet::parse("openid wallet:read").unwrap(),
        profile_id: Some(ProfileId::new("p1")),
        auth_time: UnixTime(ISSUED - 5),
        created_at: UnixTime(BEFORE_EXPIRY),
        revoked_at: None,
    }
}

/// An unrotated refresh token of `grant`, valid for a day.
pub fn refresh(secret: &str, grant: &GrantRecord) -> RefreshTokenRecord {
    RefreshTokenRecord {
        hash: SecretHash::of(secret),
        grant_id: grant.id.clone(),
        client_id: grant.client_id.clone(),
        scope: grant.scope.clone(),
        created_at: grant.created_at,
        expires_at: UnixTime(grant.created_at.0 + 86_400),
        rotated_at: None,
        jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
    }
}

/// Stores `grant` (and `refresh`) the only way the traits allow: by redeeming a fresh code.
pub async fn issue(store: &AnyStore, grant: &GrantRecord, refresh: Option<&RefreshTokenRecord>) {
    let (client, user) = (grant.client_id.as_str(), grant.user_id.as_str());
    redeemable(store, client, user).await;
    let code = code(&format!("code-for-{}", grant.id), client, user);
    store.insert_code(&code).await.unwrap();
    let now = UnixTime(BEFORE_EXPIRY);
    assert!(
        store
            .redeem_code(&code.hash, now, grant, refresh)
            .await
            .unwrap()
    );
}

pub async fn code_round_trip_with_every_field(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    let full = code("full", "c1", "u1");
    store.insert_code(&full).await.unwrap();
    assert_eq!(store.code(&full.hash).await.unwrap(), Some(full));

    let mut redeemed = code("redeemed", "c1", "u1");
    redeemed.challenge = Some(CodeChallenge {
        challenge: "plain-challenge-plain-challenge-plain-challenge".into(),
        method: ChallengeMethod::Plain,
    });
    redeemed.redeemed_at = Some(UnixTime(BEFORE_EXPIRY));
    redeemed.grant_id = Some(GrantId::new("g-elsewhere"));
    store.insert_code(&redeemed).await.unwrap();
    assert_eq!(store.code(&redeemed.hash).await.unwrap(), Some(redeemed));

    assert_eq!(store.code(&SecretHash::of("unknown")).await.unwrap(), None);
}

pub async fn code_round_trip_without_optional_fields(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    let mut bare = code("bare", "c1", "u1");
    bare.redirect_uri_given = false;
    bare.challenge = None;
    bare.nonce = None;
    bare.profile_id = None;
    bare.sid = None;
    store.insert_code(&bare).await.unwrap();
    assert_eq!(store.code(&bare.hash).await.unwrap(), Some(bare));
}

pub async fn duplicate_code_conflicts(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    store.insert_code(&code("c", "c1", "u1")).await.unwrap();
    let again = store.insert_code(&code("c", "c1", "u1")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

pub async fn code_redeem_writes_grant_and_refresh_token_and_marks_code(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    let c = code("c", "c1", "u1");
    store.insert_code(&c).await.unwrap();
    let g = grant("g1", "c1", "u1");
    let r = refresh("r1", &g);
    let now = UnixTime(BEFORE_EXPIRY);

    assert!(store.redeem_code(&c.hash, now, &g, Some(&r)).await.unwrap());

    let stored = store.code(&c.hash).await.unwrap().unwrap();
    assert_eq!(stored.redeemed_at, Some(now));
    assert_eq!(stored.grant_id, Some(g.id.clone()));
    assert_eq!(
        CodeRecord {
            redeemed_at: None,
            grant_id: None,
            ..stored
        },
        c,
        "redemption changes nothing but redeemed_at and grant_id"
    );
    assert_eq!(store.grant(&g.id).await.unwrap(), Some(g));
    assert_eq!(store.refresh_token(&r.hash).await.unwrap(), Some(r));
}

pub async fn code_redeemed_once_then_refused(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    let c = code("c", "c1", "u1");
    store.insert_code(&c).await.unwrap();
    let (first, second) = (grant("g1", "c1", "u1"), grant("g2", "c1", "u1"));
    let (r1, r2) = (refresh("r1", &first), refresh("r2", &second));
    let now = UnixTime(BEFORE_EXPIRY);
    assert!(
        store
            .redeem_code(&c.hash, now, &first, Some(&r1))
            .await
            .unwrap()
    );

    let later = UnixTime(BEFORE_EXPIRY + 1);
    assert!(
        !store
            .redeem_code(&c.hash, later, &second, Some(&r2))
            .await
            .unwrap()
    );

    assert_eq!(store.grant(&second.id).await.unwrap(), None);
    assert_eq!(store.refresh_token(&r2.hash).await.unwrap(), None);
    let stored = store.code(&c.hash).await.unwrap().unwrap();
    assert_eq!(stored.redeemed_at, Some(now));
    assert_eq!(stored.grant_id, Some(first.id.clone()));
    assert_eq!(store.grant(&first.id).await.unwrap(), Some(first));
}

pub async fn expired_code_cannot_be_redeemed(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    let c = code("c", "c1", "u1");
    store.insert_code(&c).await.unwrap();
    let g = grant("g1", "c1", "u1");
    let r = refresh("r1", &g);

    // Expiry is exclusive: at `expires_at` the code is already dead.
    for now in [EXPIRES, EXPIRES + 1, EXPIRES + 86_400] {
        let redeemed = store
            .redeem_code(&c.hash, UnixTime(now), &g, Some(&r))
            .await;
        assert!(!redeemed.unwrap(), "redeemed at {now}");
    }
    assert_eq!(store.grant(&g.id).await.unwrap(), None);
    assert_eq!(store.refresh_token(&r.hash).await.unwrap(), None);
    assert_eq!(store.code(&c.hash).await.unwrap(), Some(c.clone()));

    // The same code a second before expiry is fine, so the refusals above were expiry.
    let last_moment = UnixTime(EXPIRES - 1);
    assert!(
        store
            .redeem_code(&c.hash, last_moment, &g, Some(&r))
            .await
            .unwrap()
    );
}

pub async fn unknown_code_cannot_be_redeemed(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    let g = grant("g1", "c1", "u1");
    let now = UnixTime(BEFORE_EXPIRY);
    let unknown = SecretHash::of("never issued");
    assert!(!store.redeem_code(&unknown, now, &g, None).await.unwrap());
    assert_eq!(store.grant(&g.id).await.unwrap(), None);
}

pub async fn code_redeem_without_refresh_token(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    let c = code("c", "c1", "u1");
    store.insert_code(&c).await.unwrap();
    let g = grant("g1", "c1", "u1");
    let now = UnixTime(BEFORE_EXPIRY);

    assert!(store.redeem_code(&c.hash, now, &g, None).await.unwrap());

    assert_eq!(store.grant(&g.id).await.unwrap(), Some(g.clone()));
    let stored = store.code(&c.hash).await.unwrap().unwrap();
    assert_eq!(
        (stored.redeemed_at, stored.grant_id),
        (Some(now), Some(g.id))
    );
}

pub async fn code_stays_unredeemed_when_grant_cannot_be_written(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    let g = grant("g1", "c1", "u1");
    issue(store, &g, None).await;
    let c = code("c", "c1", "u1");
    store.insert_code(&c).await.unwrap();
    let r = refresh("r1", &g);

    // The grant id is taken, so the transaction fails after consuming the code.
    let now = UnixTime(BEFORE_EXPIRY);
    let clash = store.redeem_code(&c.hash, now, &g, Some(&r)).await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");

    assert_eq!(store.code(&c.hash).await.unwrap(), Some(c.clone()));
    assert_eq!(store.refresh_token(&r.hash).await.unwrap(), None);
    let fresh = grant("g2", "c1", "u1");
    assert!(store.redeem_code(&c.hash, now, &fresh, None).await.unwrap());
}

pub async fn code_of_a_withdrawn_consent_cannot_be_redeemed(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    let c = code("c", "c1", "u1");
    store.insert_code(&c).await.unwrap();
    let (u1, c1) = (UserId::new("u1"), ClientId::new("c1"));
    assert!(store.delete_consent(&u1, &c1).await.unwrap());
    let g = grant("g", "c1", "u1");
    let now = UnixTime(BEFORE_EXPIRY);
    assert!(!store.redeem_code(&c.hash, now, &g, None).await.unwrap());
    assert_eq!(store.grant(&g.id).await.unwrap(), None);
    assert_eq!(
        store.code(&c.hash).await.unwrap().unwrap().redeemed_at,
        None
    );
}

pub async fn code_of_a_disabled_user_cannot_be_redeemed(store: &AnyStore) {
    redeemable(store, "c1", "u1").await;
    let c = code("c", "c1", "u1");
    store.insert_code(&c).await.unwrap();
    let mut user = store.user(&UserId::new("u1")).await.unwrap().unwrap();
    user.disabled = true;
    assert!(store.update_user(&user).await.unwrap());
    let g = grant("g", "c1", "u1");
    let now = UnixTime(BEFORE_EXPIRY);
    assert!(!store.redeem_code(&c.hash, now, &g, None).await.unwrap());
    assert_eq!(store.grant(&g.id).await.unwrap(), None);
}

pub async fn ending_an_app_ends_its_consent_codes_and_grants_and_nothing_else(store: &AnyStore) {
    // Two apps of u1, and the same app for u2: only (u1, c1) ends.
    for (client, user) in [("c1", "u1"), ("c2", "u1"), ("c1", "u2")] {
        redeemable(store, client, user).await;
        let g = grant(&format!("g-{client}-{user}"), client, user);
        let r = refresh(&format!("r-{client}-{user}"), &g);
        issue(store, &g, Some(&r)).await;
        store
            .insert_code(&code(&format!("kept-{client}-{user}"), client, user))
            .await
            .unwrap();
    }
    let (u1, c1) = (UserId::new("u1"), ClientId::new("c1"));
    let ending = Ending::App {
        user: u1.clone(),
        client: c1.clone(),
    };
    let now = UnixTime(BEFORE_EXPIRY + 1);
    let ended = store.end_access(&ending, now).await.unwrap();
    assert_eq!(
        ended,
        Ended {
            consents: 1,
            codes: 1,
            grants: 1,
            sessions: 0
        }
    );
    assert_eq!(store.consent(&u1, &c1).await.unwrap(), None);
    assert_eq!(
        store.code(&SecretHash::of("kept-c1-u1")).await.unwrap(),
        None
    );
    let revoked = store
        .grant(&GrantId::new("g-c1-u1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(now));
    // The redeemed code stays, so that presenting it again is still told apart as reuse.
    assert!(
        store
            .code(&SecretHash::of("code-for-g-c1-u1"))
            .await
            .unwrap()
            .is_some()
    );
    // The refresh token of the revoked grant no longer rotates.
    let successor = refresh("successor", &revoked);
    assert!(
        !store
            .rotate_refresh_token(&SecretHash::of("r-c1-u1"), now, &successor)
            .await
            .unwrap()
    );
    for (client, user) in [("c2", "u1"), ("c1", "u2")] {
        let (u, c) = (UserId::new(user), ClientId::new(client));
        assert!(store.consent(&u, &c).await.unwrap().is_some());
        let kept = format!("kept-{client}-{user}");
        assert!(store.code(&SecretHash::of(&kept)).await.unwrap().is_some());
        let id = GrantId::new(format!("g-{client}-{user}"));
        assert_eq!(store.grant(&id).await.unwrap().unwrap().revoked_at, None);
    }
    // Ending it again finds nothing left.
    assert_eq!(
        store.end_access(&ending, now).await.unwrap(),
        Ended::default()
    );
}

pub async fn ending_a_user_disables_them_and_ends_every_app_but_keeps_consents(store: &AnyStore) {
    for client in ["c1", "c2"] {
        redeemable(store, client, "u1").await;
        let g = grant(&format!("g-{client}"), client, "u1");
        issue(store, &g, None).await;
        store
            .insert_code(&code(&format!("kept-{client}"), client, "u1"))
            .await
            .unwrap();
    }
    redeemable(store, "c1", "u2").await;
    issue(store, &grant("g-u2", "c1", "u2"), None).await;
    let u1 = UserId::new("u1");
    let now = UnixTime(BEFORE_EXPIRY + 1);
    let ended = store
        .end_access(&Ending::User(u1.clone()), now)
        .await
        .unwrap();
    assert_eq!((ended.consents, ended.codes, ended.grants), (0, 2, 2));
    let user = store.user(&u1).await.unwrap().unwrap();
    assert!(user.disabled);
    assert_eq!(user.updated_at, now);
    assert_eq!(store.consents_of(&u1).await.unwrap().len(), 2);
    for client in ["c1", "c2"] {
        let id = GrantId::new(format!("g-{client}"));
        assert_eq!(
            store.grant(&id).await.unwrap().unwrap().revoked_at,
            Some(now)
        );
    }
    let other = store.grant(&GrantId::new("g-u2")).await.unwrap().unwrap();
    assert_eq!(other.revoked_at, None);
    assert!(
        !store
            .user(&UserId::new("u2"))
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
}
