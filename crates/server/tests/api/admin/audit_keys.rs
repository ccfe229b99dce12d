//! The admin API's audit trail (filters and cursor) and signing keys (list and rotate).

use std::time::Duration;

use portcullis_core::time::Clock as _;
use portcullis_testkit::flow::{PASSWORD, browser};
use portcullis_testkit::{AppOptions, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

use crate::admin_kit::{AdminApi, flush_audit};

fn kinds(items: &[Value]) -> Vec<&str> {
    items.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

async fn page(api: &AdminApi<'_>, query: &str) -> (Vec<Value>, Option<String>) {
    let answer = api.get(&format!("/admin/v1/audit?{query}")).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    (
        answer.body["items"].as_array().unwrap().clone(),
        answer.body["next_cursor"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn audit_events_are_filtered_and_paged() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let start = app.clock.now().0;
    let ada = app.user("ada@example.com").await;
    for id in ["one", "two"] {
        let answer = api
            .post(
                "/admin/v1/clients",
                &json!({"client_id": id, "name": id, "redirect_uris": ["https://a.example/cb"]}),
            )
            .await;
        assert_eq!(answer.status, 201);
    }
    app.clock.advance(100);
    let middle = app.clock.now().0;
    api.patch("/admin/v1/clients/one", &json!({"name": "One"}))
        .await;
    let wrong = app
        .login(&browser(), "ada@example.com", "not the password", None)
        .await;
    assert_eq!(wrong.status(), 303);
    let right = app
        .login(&browser(), "ada@example.com", PASSWORD, None)
        .await;
    assert_eq!(right.status(), 303);
    flush_audit(&app).await;

    // Everything, oldest first.
    let (all, cursor) = page(&api, "").await;
    assert_eq!(
        kinds(&all),
        [
            "tokens_issued",
            "client_created",
            "client_created",
            "client_updated",
            "login_failed",
            "login_succeeded"
        ]
    );
    assert!(cursor.is_none(), "one page holds everything");
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // By kind, client, user and time.
    let (created, _) = page(&api, "kind=client_created").await;
    assert_eq!(kinds(&created), ["client_created", "client_created"]);
    assert_eq!(created[0]["client_id"], "one");
    assert_eq!(created[0]["actor"], api.actor());
    assert_eq!(created[0]["ip"], "127.0.0.1");
    assert_eq!(created[0]["outcome"], "success");
    assert_eq!(
        created[0]["detail"],
        json!({"name": "one", "public": false})
    );
    let (one, _) = page(&api, "client_id=one").await;
    assert_eq!(kinds(&one), ["client_created", "client_updated"]);
    let (about_ada, _) = page(&api, &format!("user_id={}", ada.id)).await;
    assert_eq!(kinds(&about_ada), ["login_failed", "login_succeeded"]);
    assert_eq!(about_ada[0]["outcome"], "failure");
    assert_eq!(about_ada[0]["actor"], "anonymous");
    assert_eq!(about_ada[1]["actor"], format!("user:{}", ada.id));
    let (failed, _) = page(&api, &format!("kind=login_failed&user_id={}", ada.id)).await;
    assert_eq!(failed.len(), 1);
    let (later, _) = page(&api, &format!("since={middle}")).await;
    assert_eq!(later.len(), 3, "{later:?}");
    let (earlier, _) = page(&api, &format!("since={start}&until={middle}")).await;
    assert_eq!(earlier.len(), 3, "{earlier:?}");
    let (none, _) = page(&api, "kind=code_reuse").await;
    assert!(none.is_empty());

    // A page at a time: the cursor is the last `seq`, present while pages are full.
    let mut seen = Vec::new();
    let mut query = "limit=4".to_owned();
    let mut pages = 0;
    loop {
        let (items, next) = page(&api, &query).await;
        pages += 1;
        seen.extend(items);
        match next {
            Some(cursor) => query = format!("limit=4&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, all, "the pages add up to the whole trail");
    let (rest, next) = page(&api, &format!("cursor={}&limit=2", seqs[3])).await;
    assert_eq!(rest, all[4..].to_vec());
    assert_eq!(
        next.as_deref(),
        Some(seqs[5].to_string().as_str()),
        "a full page"
    );
    let (empty, next) = page(&api, &format!("cursor={}", seqs[5])).await;
    assert!(empty.is_empty() && next.is_none());

    // Unknown kinds and unreadable numbers are refused.
    let answer = api.get("/admin/v1/audit?kind=everything").await;
    answer.assert_error(400, "invalid_request");
    assert_eq!(
        answer.body["error_description"],
        "unknown event kind 'everything'"
    );
    api.get("/admin/v1/audit?since=yesterday")
        .await
        .assert_error(400, "invalid_request");
    api.get("/admin/v1/users?cursor=a&cursor=b")
        .await
        .assert_error(400, "invalid_request");
}

async fn key_states(api: &AdminApi<'_>) -> Vec<(String, String, String)> {
    let answer = api.get("/admin/v1/keys").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["alg"].as_str().unwrap().to_owned(),
                k["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn fast_refreshing_app() -> TestApp {
    spawn_app_with(AppOptions {
        configure: |c| c.key_refresh_interval = Duration::from_millis(100),
        ..AppOptions::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn keys_are_listed_and_rotated() {
    let app = fast_refreshing_app().await;
    let api = AdminApi::new(&app).await;
    let before = key_states(&api).await;
    let mut algs: Vec<&str> = before.iter().map(|(_, alg, _)| alg.as_str()).collect();
    algs.sort_unstable();
    assert_eq!(algs, ["ES256", "EdDSA", "PS256", "RS256"]);
    assert!(before.iter().all(|(_, _, state)| state == "active"));
    let listed = api.get("/admin/v1/keys").await;
    assert!(listed.body["keys"][0]["created_at"].is_string());
    assert!(listed.body["keys"][0]["activates_at"].is_string());

    // Key times have second resolution: a key made in the second of the one it replaces
    // would not reliably take over.
    app.clock.advance(1);
    let answer = api
        .post(
            "/admin/v1/keys/rotate",
            &json!({"algs": ["ES256"], "activate_after_seconds": 0}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let made = answer.body["keys"].as_array().unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["alg"], "ES256");
    let kid = made[0]["kid"].as_str().unwrap().to_owned();
    let mut after = Vec::new();
    for _ in 0..100 {
        after = key_states(&api).await;
        if after.iter().any(|(k, _, _)| *k == kid) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let state = |kid: &str| {
        after
            .iter()
            .find(|(k, _, _)| k == kid)
            .map(|(_, _, s)| s.clone())
    };
    assert_eq!(state(&kid).as_deref(), Some("active"), "{after:?}");
    let old_es = &before.iter().find(|(_, alg, _)| alg == "ES256").unwrap().0;
    assert_eq!(state(old_es).as_deref(), Some("retiring"));

    // An empty body rotates every algorithm, after the configured delay.
    app.clock.advance(1);
    let answer = api.post_empty("/admin/v1/keys/rotate").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let made = answer.body["keys"].as_array().unwrap();
    assert_eq!(made.len(), 4);
    let delay = app.config.key_activation_delay.as_secs();
    let activates =
        portcullis_core::time::UnixTime(app.clock.now().0 + i64::try_from(delay).unwrap());
    assert!(
        made.iter()
            .all(|k| k["activates_at"] == activates.to_rfc3339()),
        "{made:?}"
    );

    let answer = api
        .post("/admin/v1/keys/rotate", &json!({"algs": ["HS256"]}))
        .await;
    answer.assert_error(400, "invalid_request");
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("unknown signing algorithm 'HS256'")
    );

    flush_audit(&app).await;
    let answer = api.get("/admin/v1/audit?kind=keys_rotated").await;
    let events = answer.body["items"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["actor"], api.actor());
    assert_eq!(events[0]["client_id"], api.client.id.as_str());
    assert_eq!(events[0]["ip"], "127.0.0.1");
    assert_eq!(events[0]["detail"]["kids"], json!([kid]));
}
