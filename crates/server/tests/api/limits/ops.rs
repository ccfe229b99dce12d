use portcullis_core::store::ClientStore as _;
use portcullis_proto::ClientId;
use portcullis_testkit::{AppOptions, Backend, TestApp, spawn_app, spawn_app_with};
use serde_json::Value;

async fn ready_and_healthy(app: &TestApp) {
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["signing_keys"], "ok");
}

#[tokio::test]
async fn healthz_and_readyz_answer_on_sqlite() {
    ready_and_healthy(&spawn_app().await).await;
}

#[tokio::test]
async fn healthz_and_readyz_answer_on_postgres() {
    let options = AppOptions {
        backend: Backend::Postgres,
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(options).await else {
        return;
    };
    ready_and_healthy(&app).await;
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.store.close().await;
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["database"], "unavailable");
    // Liveness is about the process, not its dependencies.
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn data_survives_a_restart(app: TestApp) {
    let jwks_before: Value = app
        .http
        .get(app.url("/oauth/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let app = app.restart().await.unwrap();
    ready_and_healthy(&app).await;
    assert!(
        app.store
            .client(&ClientId::new("demo-app"))
            .await
            .unwrap()
            .is_some()
    );
    let jwks_after: Value = app
        .http
        .get(app.url("/oauth/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        jwks_before, jwks_after,
        "the same signing keys after a restart"
    );
}

#[tokio::test]
async fn data_survives_a_restart_on_sqlite() {
    let options = AppOptions {
        sandbox: true,
        ..AppOptions::default()
    };
    data_survives_a_restart(spawn_app_with(options).await.unwrap()).await;
}

#[tokio::test]
async fn data_survives_a_restart_on_postgres() {
    let options = AppOptions {
        sandbox: true,
        backend: Backend::Postgres,
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(options).await else {
        return;
    };
    data_survives_a_restart(app).await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.http.get(app.url("/healthz")).send().await.unwrap();
    }
    app.http.get(app.url("/no/such/path")).send().await.unwrap();
    // Refused by the middleware before routing: still counted, as no route.
    app.http
        .post(app.url("/oauth/token"))
        .body(vec![b'a'; 100_000])
        .send()
        .await
        .unwrap();
    // A made-up method does not become a label of its own.
    let brew = reqwest::Method::from_bytes(b"BREW").unwrap();
    app.http
        .request(brew, app.url("/healthz"))
        .send()
        .await
        .unwrap();
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("route=\"unmatched\",status=\"404\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("method=\"POST\",route=\"unmatched\",status=\"413\"} 1"),
        "{text}"
    );
    assert!(text.contains("method=\"OTHER\""), "{text}");
    assert!(!text.contains("BREW"), "{text}");
    assert!(
        !text.contains("/no/such/path"),
        "raw paths must not become labels"
    );
    assert!(text.contains("http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"+Inf\"} 3"));
    assert!(text.contains("db_pool_max_connections"));
}

#[tokio::test]
async fn unknown_paths_get_a_json_404() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .expect("request id")
        .to_str()
        .unwrap();
    assert_eq!(id.len(), 36);
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "from-the-proxy")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "from-the-proxy");
}

#[tokio::test]
async fn jwks_publishes_the_signing_keys() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/oauth/jwks")).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let jwks: Value = response.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let algs: Vec<_> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert!(
        algs.contains(&"ES256") && algs.contains(&"RS256"),
        "{algs:?}"
    );
    for key in keys {
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
        assert!(key.get("d").is_none(), "no private parts");
        // An independent library accepts every published key.
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).unwrap();
        jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    }
}
