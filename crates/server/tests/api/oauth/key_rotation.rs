//! Signing-key rotation: a new key is published, signs new tokens, and the old one keeps
//! verifying the tokens it signed until they expire.

use std::time::Duration;

use portcullis_core::keys::{KeyEncryptionKey, SigningAlg, manage};
use portcullis_core::random::OsRandom;
use portcullis_testkit::flow::confidential;
use portcullis_testkit::{AppOptions, Backend, TestApp, spawn_app, spawn_app_with};

use crate::oauth_kit::{Expect, active, check_access_token, client_credentials, jwks, verify_with};

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn published_kids(app: &TestApp) -> Vec<String> {
    jwks(app)
        .await
        .keys
        .iter()
        .filter(|k| {
            k.common
                .key_algorithm
                .is_some_and(|a| a.to_string() == "ES256")
        })
        .map(|k| k.common.key_id.clone().unwrap())
        .collect()
}

async fn rotate(app: &TestApp, activate_after: i64) -> String {
    // Keys are ordered by second-resolution times, then by kid: a key made in the same second
    // as the one it replaces would not reliably take over (see the report on keys/ring.rs).
    app.clock.advance(1);
    let kek =
        KeyEncryptionKey::from_base64(app.config.key_encryption_key.as_ref().unwrap().expose())
            .unwrap();
    let made = manage::rotate(
        &app.store,
        &kek,
        &OsRandom,
        app.clock.as_ref(),
        &[SigningAlg::Es256],
        activate_after,
    )
    .await
    .unwrap();
    made[0].kid.to_string()
}

/// A server that re-reads its keys every 100 ms, as every node does every `key_refresh_interval`.
async fn fast_refreshing_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(AppOptions {
        backend,
        configure: |c| c.key_refresh_interval = Duration::from_millis(100),
        ..AppOptions::default()
    })
    .await
}

/// Waits until the server publishes `kid` (its key refresh ran).
async fn wait_until_published(app: &TestApp, kid: &str) {
    for _ in 0..100 {
        if published_kids(app).await.iter().any(|k| k == kid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{kid} was never published");
}

#[tokio::test]
async fn tokens_signed_before_rotation_verify_until_they_expire_on_sqlite() {
    let app = fast_refreshing_app(Backend::Sqlite).await.unwrap();
    tokens_signed_before_rotation_verify_until_they_expire(app).await;
}

#[tokio::test]
async fn tokens_signed_before_rotation_verify_until_they_expire_on_postgres() {
    let Some(app) = fast_refreshing_app(Backend::Postgres).await else {
        return;
    };
    tokens_signed_before_rotation_verify_until_they_expire(app).await;
}

/// Rotation while the server runs: the new key is picked up without restart and signs new
/// tokens; tokens of the old key verify (independently, against the JWKS) and introspect
/// active until they expire; the old key is published until the longest token could expire.
async fn tokens_signed_before_rotation_verify_until_they_expire(app: TestApp) {
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let old_token = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    let old_kid = kid(&old_token);
    assert_eq!(published_kids(&app).await, vec![old_kid.clone()]);

    let new_kid = rotate(&app, 0).await;
    assert_ne!(new_kid, old_kid);
    wait_until_published(&app, &new_kid).await;

    // Both keys are published.
    let kids = published_kids(&app).await;
    assert!(
        kids.contains(&old_kid) && kids.contains(&new_kid),
        "{kids:?}"
    );
    // New tokens carry the new kid and verify independently.
    let new_token = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    assert_eq!(kid(&new_token), new_kid);
    let expect = Expect {
        sub: client.id.as_str(),
        client_id: client.id.as_str(),
        scope: portcullis_testkit::flow::SCOPES,
        user: false,
    };
    check_access_token(&app, &new_token, &expect).await;
    // The old token still verifies against the JWKS and is active.
    let set = jwks(&app).await;
    let (_, claims) = verify_with(&set, &app.base, &old_token, &app.base);
    assert_eq!(claims["client_id"], client.id.as_str());
    assert!(active(&app, &client, &secret, &old_token).await);

    // Until it expires.
    let exp = claims["exp"].as_i64().unwrap();
    app.clock.set(portcullis_core::time::UnixTime(exp - 1));
    assert!(active(&app, &client, &secret, &old_token).await);
    let set = jwks(&app).await;
    verify_with(&set, &app.base, &old_token, &app.base);
    app.clock.advance(1);
    assert!(!active(&app, &client, &secret, &old_token).await);

    // The old key stays published for the longest token lifetime a client may have
    // (max_access_token_ttl, plus a minute of skew), then goes.
    let max_ttl = i64::try_from(app.config.max_access_token_ttl.as_secs()).unwrap();
    // The new key took over at rotation time (exp - 3600 + 1).
    app.clock.set(portcullis_core::time::UnixTime(
        exp - 3600 + 1 + max_ttl + 59,
    ));
    assert!(
        published_kids(&app).await.contains(&old_kid),
        "a day-long token could still be out"
    );
    app.clock.advance(1);
    assert_eq!(published_kids(&app).await, vec![new_kid]);
}

#[tokio::test]
async fn a_rotated_in_key_is_published_before_it_signs() {
    let app = fast_refreshing_app(Backend::Sqlite).await.unwrap();
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let old_kid = kid(&client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token"));
    let new_kid = rotate(&app, 600).await;
    wait_until_published(&app, &new_kid).await;

    let token = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    assert_eq!(
        kid(&token),
        old_kid,
        "the old key signs until the new one activates"
    );

    app.clock.advance(600);
    let token = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    assert_eq!(kid(&token), new_kid);
    assert!(published_kids(&app).await.contains(&old_kid));
}

#[tokio::test]
async fn rotated_keys_survive_a_restart() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let old_kid = kid(&client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token"));
    let new_kid = rotate(&app, 0).await;
    let app = app.restart().await.unwrap();
    let kids = published_kids(&app).await;
    assert!(
        kids.contains(&old_kid) && kids.contains(&new_kid),
        "{kids:?}"
    );
    let token = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    assert_eq!(kid(&token), new_kid);
    let set = jwks(&app).await;
    verify_with(&set, &app.base, &token, &app.base);
}
