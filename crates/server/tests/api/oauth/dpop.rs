//! DPoP (RFC 9449) over HTTP: proofs made by an independent JWT library (`jsonwebtoken`), sent
//! to the token endpoint, userinfo and the resource API, on SQLite and across two PostgreSQL
//! nodes. Each rule is broken once: replayed `jti`, wrong `htu`, stale `iat`, missing nonce,
//! two headers, a bound token sent as Bearer, a refresh with another key, a `dpop_jkt` of
//! another key, a client that must use DPoP sending none.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portcullis_core::admin::clients::NewClient;
use portcullis_core::client::Client;
use portcullis_core::time::Clock as _;
use portcullis_proto::Secret;
use portcullis_testkit::TestApp;
use portcullis_testkit::cluster::postgres_pair;
use portcullis_testkit::flow::{Pkce, REDIRECT_URI, confidential, public};
use serde_json::{Value, json};

use crate::oauth_kit::{Answer, authorize_params};

const EMAIL: &str = "dora@example.com";

/// A key pair the test holds, signing with `jsonwebtoken`: DPoP proofs here, client
/// assertions in `private_key_jwt`.
pub(crate) struct DpopKey {
    encoding: EncodingKey,
    alg: Algorithm,
    jwk: Value,
    serial: std::sync::atomic::AtomicU32,
}

impl DpopKey {
    pub(crate) fn es256() -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        Self::new(
            EncodingKey::from_ec_der(pkcs8.as_ref()),
            Algorithm::ES256,
            json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])}),
        )
    }

    pub(crate) fn ed25519() -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        Self::new(
            EncodingKey::from_ed_der(pkcs8.as_ref()),
            Algorithm::EdDSA,
            json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())}),
        )
    }

    fn new(encoding: EncodingKey, alg: Algorithm, jwk: Value) -> Self {
        Self {
            encoding,
            alg,
            jwk,
            serial: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// The RFC 7638 thumbprint, computed here from the required members in lexical order.
    pub(crate) fn jkt(&self) -> String {
        let canonical = match self.jwk["kty"].as_str().unwrap() {
            "EC" => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                self.jwk["x"].as_str().unwrap(),
                self.jwk["y"].as_str().unwrap()
            ),
            _ => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                self.jwk["x"].as_str().unwrap()
            ),
        };
        b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref())
    }

    /// The public JWK with `kid`, as a client registers it.
    pub(crate) fn public_jwk(&self, kid: &str) -> Value {
        let mut jwk = self.jwk.clone();
        jwk["kid"] = json!(kid);
        jwk
    }

    /// A client assertion (RFC 7523) of `claims`, its header naming `kid`.
    pub(crate) fn assertion(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }

    /// A proof of `claims` (`jti` and `iat` added unless given).
    fn sign(&self, app: &TestApp, mut claims: Value) -> String {
        let serial = self
            .serial
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if claims.get("jti").is_none() {
            claims["jti"] = json!(format!("proof-{serial}-{}", self.jkt()));
        }
        if claims.get("iat").is_none() {
            claims["iat"] = json!(app.clock.now().0);
        }
        let mut header = Header::new(self.alg);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(self.jwk.clone()).unwrap());
        jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap()
    }

    /// A proof for `method` at `path` of `app`'s issuer, with `nonce` and `token`'s `ath`.
    fn proof(
        &self,
        app: &TestApp,
        method: &str,
        path: &str,
        nonce: Option<&str>,
        token: Option<&str>,
    ) -> String {
        let mut claims = json!({"htm": method, "htu": format!("{}{path}", app.issuer)});
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        if let Some(token) = token {
            claims["ath"] = json!(b64(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                token.as_bytes()
            )
            .as_ref()));
        }
        self.sign(app, claims)
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `POST /oauth/token` on `node` with `proofs` as `DPoP` headers.
async fn token(
    node: &TestApp,
    client: &Client,
    secret: Option<&Secret>,
    proofs: &[String],
    form: &[(&str, &str)],
) -> Answer {
    let mut fields = form.to_vec();
    let mut request = node.http.post(node.url("/oauth/token"));
    match secret {
        Some(secret) => request = request.basic_auth(client.id.as_str(), Some(secret.expose())),
        None => fields.push(("client_id", client.id.as_str())),
    }
    for proof in proofs {
        request = request.header("DPoP", proof);
    }
    Answer::of(request.form(&fields).send().await.unwrap()).await
}

/// A token request with a proof of `key`, retried once with the nonce the server asks for
/// (as RFC 9449 §8 clients do); asserts the first answer asked for one.
async fn token_with_nonce(
    node: &TestApp,
    client: &Client,
    secret: Option<&Secret>,
    key: &DpopKey,
    form: &[(&str, &str)],
) -> Answer {
    let first = token(
        node,
        client,
        secret,
        &[key.proof(node, "POST", "/oauth/token", None, None)],
        form,
    )
    .await;
    first.assert_error(400, "use_dpop_nonce");
    let nonce = first
        .header("dpop-nonce")
        .expect("a DPoP-Nonce header")
        .to_owned();
    let proof = key.proof(node, "POST", "/oauth/token", Some(&nonce), None);
    token(node, client, secret, &[proof], form).await
}

/// A code for `client` through the browser flow, with `extra` authorization parameters.
async fn code(app: &TestApp, client: &Client, extra: &[(&str, &str)]) -> (String, Pkce) {
    let pkce = Pkce::new();
    let mut params = authorize_params(client, "openid email profile:read wallet:read", &pkce);
    params.extend_from_slice(extra);
    let callback = app.code_flow(EMAIL, &params, None).await;
    (callback.code(), pkce)
}

fn code_form<'a>(code: &'a str, pkce: &'a Pkce) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", pkce.verifier.as_str()),
    ]
}

/// Asserts a DPoP-bound token response; returns the access token.
#[track_caller]
fn bound(answer: &Answer, key: &DpopKey) -> String {
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "DPoP", "{}", answer.body);
    assert!(
        answer.header("dpop-nonce").is_some(),
        "the next nonce comes along"
    );
    let access = answer.str("access_token");
    let payload = access.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["cnf"]["jkt"], key.jkt(), "RFC 9449 §6.1");
    access
}

/// `GET path` on `node` with `Authorization: <scheme> token` and `proofs`.
async fn get(node: &TestApp, path: &str, scheme: &str, token: &str, proofs: &[String]) -> Answer {
    let mut request = node
        .http
        .get(node.url(path))
        .header("authorization", format!("{scheme} {token}"));
    for proof in proofs {
        request = request.header("DPoP", proof);
    }
    Answer::of(request.send().await.unwrap()).await
}

#[track_caller]
fn refused_at_resource(answer: &Answer, error: &str) {
    assert_eq!(answer.status, 401, "{}", answer.body);
    let challenge = answer.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(
        challenge.contains(&format!("error=\"{error}\"")),
        "{challenge}"
    );
    assert!(
        challenge.contains("algs=\"ES256 PS256 EdDSA Ed25519\""),
        "{challenge}"
    );
}

async fn app_with_user() -> TestApp {
    let app = portcullis_testkit::spawn_app().await;
    app.user(EMAIL).await;
    app
}

#[tokio::test]
async fn a_dpop_bound_code_flow_from_token_to_resource() {
    let app = app_with_user().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let key = DpopKey::es256();
    let jkt = key.jkt();
    let (code, pkce) = code(&app, &client, &[("dpop_jkt", jkt.as_str())]).await;
    let form = code_form(&code, &pkce);

    // The code is bound to the key: no proof is invalid_dpop_proof, and spends nothing.
    token(&app, &client, secret.as_ref(), &[], &form)
        .await
        .assert_error(400, "invalid_dpop_proof");
    let answer = token_with_nonce(&app, &client, secret.as_ref(), &key, &form).await;
    let access = bound(&answer, &key);
    let refresh = answer.str("refresh_token");

    // userinfo: Bearer is refused and told to use DPoP; the DPoP scheme with a proof passes.
    let as_bearer = get(&app, "/oauth/userinfo", "Bearer", &access, &[]).await;
    refused_at_resource(&as_bearer, "invalid_token");
    let proof = key.proof(&app, "GET", "/oauth/userinfo", None, Some(&access));
    let answer = get(
        &app,
        "/oauth/userinfo",
        "DPoP",
        &access,
        std::slice::from_ref(&proof),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["email"], EMAIL);
    // The same proof again is a replay.
    let replayed = get(&app, "/oauth/userinfo", "DPoP", &access, &[proof]).await;
    refused_at_resource(&replayed, "invalid_dpop_proof");

    // The resource API checks the same way, with the proof bound to its own URI.
    let wrong_htu = key.proof(&app, "GET", "/oauth/userinfo", None, Some(&access));
    refused_at_resource(
        &get(&app, "/api/v1/me", "DPoP", &access, &[wrong_htu]).await,
        "invalid_dpop_proof",
    );
    let wrong_htm = key.proof(&app, "POST", "/api/v1/me", None, Some(&access));
    refused_at_resource(
        &get(&app, "/api/v1/me", "DPoP", &access, &[wrong_htm]).await,
        "invalid_dpop_proof",
    );
    let stale = key.sign(
        &app,
        json!({
            "htm": "GET",
            "htu": format!("{}/api/v1/me", app.issuer),
            "iat": app.clock.now().0 - 120,
            "ath": b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access.as_bytes()).as_ref()),
        }),
    );
    refused_at_resource(
        &get(&app, "/api/v1/me", "DPoP", &access, &[stale]).await,
        "invalid_dpop_proof",
    );
    let stranger = DpopKey::ed25519();
    let foreign = stranger.proof(&app, "GET", "/api/v1/me", None, Some(&access));
    refused_at_resource(
        &get(&app, "/api/v1/me", "DPoP", &access, &[foreign]).await,
        "invalid_dpop_proof",
    );
    let without_ath = key.proof(&app, "GET", "/api/v1/me", None, None);
    refused_at_resource(
        &get(&app, "/api/v1/me", "DPoP", &access, &[without_ath]).await,
        "invalid_dpop_proof",
    );
    let good = key.proof(&app, "GET", "/api/v1/me", None, Some(&access));
    let me = get(&app, "/api/v1/me", "DPoP", &access, &[good]).await;
    assert_eq!(me.status, 200, "{}", me.body);

    // Introspection reports the binding (RFC 9449 §6.2).
    let report = crate::oauth_kit::introspect(&app, &client, secret.as_ref(), &access).await;
    assert_eq!(report.body["active"], true, "{}", report.body);
    assert_eq!(report.body["token_type"], "DPoP");
    assert_eq!(report.body["cnf"]["jkt"], jkt);

    // A confidential client's refresh token is bound by its secret: a new key may refresh.
    let rotated = DpopKey::ed25519();
    let answer = token_with_nonce(
        &app,
        &client,
        secret.as_ref(),
        &rotated,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    bound(&answer, &rotated);
}

#[tokio::test]
async fn a_public_clients_refresh_token_needs_a_proof_of_the_same_key() {
    let app = app_with_user().await;
    let (client, _) = app.client(public("Native app")).await;
    let key = DpopKey::ed25519();
    let (code, pkce) = code(&app, &client, &[]).await;
    let answer = token_with_nonce(&app, &client, None, &key, &code_form(&code, &pkce)).await;
    bound(&answer, &key);
    let refresh = answer.str("refresh_token");
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];

    token(&app, &client, None, &[], &form)
        .await
        .assert_error(400, "invalid_dpop_proof");
    let thief = DpopKey::ed25519();
    token_with_nonce(&app, &client, None, &thief, &form)
        .await
        .assert_error(400, "invalid_grant");
    // Neither refusal spent the token: the holder of the key still refreshes.
    let answer = token_with_nonce(&app, &client, None, &key, &form).await;
    bound(&answer, &key);
}

#[tokio::test]
async fn proofs_are_refused_at_the_token_endpoint_for_each_broken_rule() {
    let app = app_with_user().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let key = DpopKey::es256();
    let form = [("grant_type", "client_credentials")];
    let nonce = token(
        &app,
        &client,
        Some(&secret),
        &[key.proof(&app, "POST", "/oauth/token", None, None)],
        &form,
    )
    .await
    .header("dpop-nonce")
    .unwrap()
    .to_owned();
    let post = |claims: Value| {
        let mut claims = claims;
        claims["nonce"] = json!(nonce);
        claims
    };
    let htu = format!("{}/oauth/token", app.issuer);
    let cases = [
        (
            "wrong htu",
            key.sign(
                &app,
                post(json!({"htm": "POST", "htu": format!("{}/oauth/par", app.issuer)})),
            ),
        ),
        (
            "wrong htm",
            key.sign(&app, post(json!({"htm": "GET", "htu": htu}))),
        ),
        (
            "stale iat",
            key.sign(
                &app,
                post(json!({"htm": "POST", "htu": htu, "iat": app.clock.now().0 - 61})),
            ),
        ),
        (
            "future iat",
            key.sign(
                &app,
                post(json!({"htm": "POST", "htu": htu, "iat": app.clock.now().0 + 30})),
            ),
        ),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    for (why, proof) in cases {
        let answer = token(&app, &client, Some(&secret), &[proof], &form).await;
        assert_eq!(
            answer.body["error"], "invalid_dpop_proof",
            "{why}: {}",
            answer.body
        );
        assert_eq!(answer.status, 400, "{why}");
    }
    // Two DPoP headers, even two good ones.
    let two = [
        key.proof(&app, "POST", "/oauth/token", Some(&nonce), None),
        key.proof(&app, "POST", "/oauth/token", Some(&nonce), None),
    ];
    token(&app, &client, Some(&secret), &two, &form)
        .await
        .assert_error(400, "invalid_dpop_proof");
    // A stale nonce is use_dpop_nonce again, with a fresh one.
    let made_up = key.proof(&app, "POST", "/oauth/token", Some("12345"), None);
    let answer = token(&app, &client, Some(&secret), &[made_up], &form).await;
    answer.assert_error(400, "use_dpop_nonce");
    assert_eq!(answer.header("dpop-nonce"), Some(nonce.as_str()));
    // A good proof passes once; replayed, it is refused.
    let good = key.proof(&app, "POST", "/oauth/token", Some(&nonce), None);
    bound(
        &token(
            &app,
            &client,
            Some(&secret),
            std::slice::from_ref(&good),
            &form,
        )
        .await,
        &key,
    );
    token(&app, &client, Some(&secret), &[good], &form)
        .await
        .assert_error(400, "invalid_dpop_proof");
}

#[tokio::test]
async fn dpop_jkt_binds_the_code_to_one_key_and_must_be_a_thumbprint() {
    let app = app_with_user().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let key = DpopKey::es256();
    let (code, pkce) = code(&app, &client, &[("dpop_jkt", key.jkt().as_str())]).await;
    let other = DpopKey::es256();
    token_with_nonce(
        &app,
        &client,
        secret.as_ref(),
        &other,
        &code_form(&code, &pkce),
    )
    .await
    .assert_error(400, "invalid_grant");
    bound(
        &token_with_nonce(
            &app,
            &client,
            secret.as_ref(),
            &key,
            &code_form(&code, &pkce),
        )
        .await,
        &key,
    );

    // A malformed dpop_jkt goes back to the client as invalid_request.
    let pkce = Pkce::new();
    let mut params = authorize_params(&client, "openid", &pkce);
    params.push(("dpop_jkt", "not-a-thumbprint"));
    let browser = portcullis_testkit::flow::browser();
    let response = app.authorize(&browser, &params).await;
    let url = portcullis_testkit::flow::expect_error_redirect(&app, &response, "invalid_request");
    assert!(
        portcullis_testkit::flow::param(&url, "error_description")
            .unwrap()
            .contains("dpop_jkt")
    );
}

#[tokio::test]
async fn a_client_registered_with_dpop_bound_access_tokens_gets_no_token_without_a_proof() {
    let app = app_with_user().await;
    let (client, secret) = app
        .client(NewClient {
            dpop_bound_access_tokens: true,
            ..confidential("Bound")
        })
        .await;
    let secret = secret.unwrap();
    let form = [("grant_type", "client_credentials")];
    let answer = token(&app, &client, Some(&secret), &[], &form).await;
    answer.assert_error(400, "invalid_dpop_proof");
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("dpop_bound_access_tokens")
    );
    let key = DpopKey::es256();
    bound(
        &token_with_nonce(&app, &client, Some(&secret), &key, &form).await,
        &key,
    );
}

#[tokio::test]
async fn discovery_advertises_the_proof_algorithms() {
    let app = portcullis_testkit::spawn_app().await;
    let metadata = crate::oauth_kit::metadata(&app).await;
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["ES256", "PS256", "EdDSA", "Ed25519"])
    );
}

#[tokio::test]
async fn across_two_postgresql_nodes_a_nonce_from_one_is_good_on_the_other_and_a_jti_is_spent_once()
{
    let Some((a, b)) = postgres_pair(|_| {}).await else {
        return;
    };
    let (client, secret) = a.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let key = DpopKey::es256();
    let form = [("grant_type", "client_credentials")];
    let first = token(
        &a,
        &client,
        Some(&secret),
        &[key.proof(&a, "POST", "/oauth/token", None, None)],
        &form,
    )
    .await;
    first.assert_error(400, "use_dpop_nonce");
    let nonce = first.header("dpop-nonce").unwrap().to_owned();
    // Node B takes node A's nonce (both derive it from the cluster's key).
    let proof = key.proof(&b, "POST", "/oauth/token", Some(&nonce), None);
    let answer = token(
        &b,
        &client,
        Some(&secret),
        std::slice::from_ref(&proof),
        &form,
    )
    .await;
    let access = bound(&answer, &key);
    // The same proof replayed to node A is refused: the jti is spent in the shared database.
    token(&a, &client, Some(&secret), &[proof], &form)
        .await
        .assert_error(400, "invalid_dpop_proof");
    // A resource proof spent on B does not pass on A. (The client's own token passes the
    // token check and finds no user: 404.)
    let at_resource = key.proof(&a, "GET", "/api/v1/me", None, Some(&access));
    let on_b = get(
        &b,
        "/api/v1/me",
        "DPoP",
        &access,
        std::slice::from_ref(&at_resource),
    )
    .await;
    assert_eq!(on_b.status, 404, "{}", on_b.body);
    refused_at_resource(
        &get(&a, "/api/v1/me", "DPoP", &access, &[at_resource]).await,
        "invalid_dpop_proof",
    );
}

#[tokio::test]
async fn a_proof_at_the_pushed_authorization_request_binds_the_code_to_its_key() {
    let app = app_with_user().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    let key = DpopKey::es256();
    let pkce = Pkce::new();
    let form = authorize_params(&client, "openid email", &pkce);
    let par = |proof: String| {
        app.http
            .post(app.url("/oauth/par"))
            .basic_auth(client.id.as_str(), Some(secret.expose()))
            .header("DPoP", proof)
            .form(&form)
            .send()
    };
    let first = Answer::of(
        par(key.proof(&app, "POST", "/oauth/par", None, None))
            .await
            .unwrap(),
    )
    .await;
    first.assert_error(400, "use_dpop_nonce");
    let nonce = first.header("dpop-nonce").unwrap().to_owned();
    let pushed = Answer::of(
        par(key.proof(&app, "POST", "/oauth/par", Some(&nonce), None))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    let request_uri = pushed.str("request_uri");
    let callback = app
        .code_flow(
            EMAIL,
            &[
                ("client_id", client.id.as_str()),
                ("request_uri", &request_uri),
            ],
            None,
        )
        .await;
    let code = callback.code();
    let form = code_form(&code, &pkce);
    token(&app, &client, Some(&secret), &[], &form)
        .await
        .assert_error(400, "invalid_dpop_proof");
    let other = DpopKey::es256();
    token_with_nonce(&app, &client, Some(&secret), &other, &form)
        .await
        .assert_error(400, "invalid_grant");
    bound(
        &token_with_nonce(&app, &client, Some(&secret), &key, &form).await,
        &key,
    );
}
