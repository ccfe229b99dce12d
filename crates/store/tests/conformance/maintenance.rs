use crate::AnyStore;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{CodeRecord, RefreshTokenRecord};
use portcullis_core::time::UnixTime;

use crate::codes::{code, grant, issue, parties, refresh};
use crate::sessions::session;

const NOW: i64 = 1_000_000;
/// How long codes and rate-limit counters are kept after they lapse.
const RETENTION: i64 = 86_400;

fn code_expiring(secret: &str, expires_at: i64) -> CodeRecord {
    CodeRecord {
        auth_time: UnixTime(expires_at - 70),
        created_at: UnixTime(expires_at - 60),
        expires_at: UnixTime(expires_at),
        ..code(secret, "c1", "u1")
    }
}

/// Stores a grant whose only refresh token expires at `expires_at`.
async fn refresh_expiring(store: &AnyStore, id: &str, expires_at: i64) -> RefreshTokenRecord {
    let g = grant(id, "c1", "u1");
    let token = RefreshTokenRecord {
        expires_at: UnixTime(expires_at),
        ..refresh(id, &g)
    };
    issue(store, &g, Some(&token)).await;
    token
}

pub async fn delete_expired_removes_only_what_lapsed(store: &AnyStore) {
    parties(store, "c1", "u1").await;
    // `issue` redeems one code per grant, long expired (and past retention) by NOW.
    let old_refresh = refresh_expiring(store, "g-old", NOW - 1).await;
    let live_refresh = refresh_expiring(store, "g-live", NOW + 1).await;
    let ancient = code_expiring("ancient", NOW - RETENTION - 1);
    let mut kept_codes = vec![
        code_expiring("recently-expired", NOW - 10),
        code_expiring("within-retention", NOW - RETENTION + 1),
        code_expiring("live", NOW + 60),
    ];
    kept_codes[0].redeemed_at = Some(UnixTime(NOW - 20));
    for c in kept_codes.iter().chain([&ancient]) {
        store.insert_code(c).await.unwrap();
    }
    let (old_session, live_session) = (
        session("s-old", Some("u1"), NOW - 1),
        session("s-live", None, NOW + 1),
    );
    store.insert_session(&old_session).await.unwrap();
    store.insert_session(&live_session).await.unwrap();
    for (id, expires_at) in [("req-old", NOW - 1), ("req-live", NOW + 1)] {
        assert!(
            store
                .spend_auth_request(id, UnixTime(expires_at))
                .await
                .unwrap()
        );
    }
    store
        .revoke_access_token("jti-old", UnixTime(NOW - 1))
        .await
        .unwrap();
    store
        .revoke_access_token("jti-live", UnixTime(NOW + 1))
        .await
        .unwrap();
    let (old_window, recent_window) = (UnixTime(NOW - RETENTION - 60), UnixTime(NOW - 3_600));
    store.hit("old-counter", old_window).await.unwrap();
    store.hit("recent-counter", recent_window).await.unwrap();

    // Three codes (two from `issue`), and one of each other kind.
    assert_eq!(store.delete_expired(UnixTime(NOW)).await.unwrap(), 3 + 5);
    assert_eq!(store.delete_expired(UnixTime(NOW)).await.unwrap(), 0);

    assert_eq!(store.code(&ancient.hash).await.unwrap(), None);
    assert_eq!(
        store.code(&SecretHash::of("code-for-g-old")).await.unwrap(),
        None
    );
    for c in kept_codes {
        assert_eq!(store.code(&c.hash).await.unwrap(), Some(c));
    }
    assert_eq!(store.session(&old_session.id_hash).await.unwrap(), None);
    assert_eq!(
        store.session(&live_session.id_hash).await.unwrap(),
        Some(live_session)
    );
    assert!(!store.auth_request_spent("req-old").await.unwrap());
    assert!(store.auth_request_spent("req-live").await.unwrap());
    assert!(!store.is_access_token_revoked("jti-old").await.unwrap());
    assert!(store.is_access_token_revoked("jti-live").await.unwrap());
    assert_eq!(store.refresh_token(&old_refresh.hash).await.unwrap(), None);
    assert_eq!(
        store.refresh_token(&live_refresh.hash).await.unwrap(),
        Some(live_refresh)
    );
    assert!(
        store.grant(&old_refresh.grant_id).await.unwrap().is_some(),
        "grants are kept"
    );
    assert_eq!(
        store.hit("old-counter", old_window).await.unwrap(),
        1,
        "counter forgotten"
    );
    assert_eq!(
        store.hit("recent-counter", recent_window).await.unwrap(),
        2,
        "counter kept"
    );
}
