//! OpenID Connect ID tokens (Core §2, §3.1.3.6), checked with an independent library.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::keys::SigningAlg;
use portcullis_core::time::Clock as _;
use portcullis_testkit::flow::{Pkce, REDIRECT_URI, confidential};
use portcullis_testkit::spawn_app;

use crate::oauth_kit::{redeem, verify_jwt};

const EMAIL: &str = "alice@example.com";

/// `at_hash`: base64url of the left half of SHA-256 of the access token (Core §3.1.3.6).
/// SHA-256 comes from the PKCE S256 transform, itself checked against RFC 7636's example.
fn at_hash_sha256(access_token: &str) -> String {
    let full = URL_SAFE_NO_PAD
        .decode(portcullis_core::pkce::s256_challenge(access_token))
        .unwrap();
    assert_eq!(full.len(), 32);
    URL_SAFE_NO_PAD.encode(&full[..16])
}

#[test]
fn sha256_helper_matches_rfc_7636_appendix_b() {
    assert_eq!(
        portcullis_core::pkce::s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

/// Runs the code flow with `nonce` and returns the token response.
async fn tokens(
    app: &portcullis_testkit::TestApp,
    client: &portcullis_core::client::Client,
    secret: &portcullis_proto::Secret,
    scope: &str,
) -> crate::oauth_kit::Answer {
    let pkce = Pkce::new();
    let params = [
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("scope", scope),
        ("state", "st"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = app.code_flow(EMAIL, &params, None).await.code();
    let answer = redeem(app, client, Some(secret), &code, &pkce.verifier).await;
    answer.assert_tokens();
    answer
}

#[tokio::test]
async fn id_token_is_rs256_by_default_with_every_claim() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    let user = app.user(EMAIL).await;
    let login_time = app.clock.now().0;
    let answer = tokens(&app, &client, &secret, "openid email").await;
    let id_token = answer.str("id_token");
    let access = answer.str("access_token");

    let (header, claims) = verify_jwt(&app, &id_token, client.id.as_str()).await;
    assert_eq!(
        format!("{:?}", header.alg),
        "RS256",
        "RS256 unless the client registered another"
    );
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(claims["iss"], app.base.as_str());
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["aud"], client.id.as_str());
    assert_eq!(claims["azp"], client.id.as_str());
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    let iat = claims["iat"].as_i64().unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    let now = app.clock.now().0;
    assert!((now - 5..=now).contains(&iat));
    assert!(exp > iat && exp - iat <= 3600, "exp {exp} iat {iat}");
    let auth_time = claims["auth_time"].as_i64().unwrap();
    assert!(
        (login_time..=iat).contains(&auth_time),
        "auth_time {auth_time}"
    );
    assert_eq!(claims["at_hash"], at_hash_sha256(&access));
    assert_eq!(claims["email"], EMAIL);
    assert!(claims.get("name").is_none(), "no profile:read, no name");
    // The access token's sub is the same user.
    assert_eq!(crate::oauth_kit::peek(&access)["sub"], claims["sub"]);
}

#[tokio::test]
async fn id_token_uses_the_algorithm_the_client_registered() {
    let app = spawn_app().await;
    let (client, secret) = app
        .client(portcullis_core::admin::clients::NewClient {
            id_token_alg: SigningAlg::Ps256,
            ..confidential("PS256 app")
        })
        .await;
    let secret = secret.unwrap();
    let user = app.user(EMAIL).await;
    let answer = tokens(&app, &client, &secret, "openid").await;
    let (header, claims) = verify_jwt(&app, &answer.str("id_token"), client.id.as_str()).await;
    assert_eq!(format!("{:?}", header.alg), "PS256");
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(
        claims["at_hash"],
        at_hash_sha256(&answer.str("access_token"))
    );
    // The access token keeps the server's algorithm.
    let access = jsonwebtoken::decode_header(answer.str("access_token")).unwrap();
    assert_eq!(format!("{:?}", access.alg), "ES256");
}

#[tokio::test]
async fn no_id_token_without_openid() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let answer = tokens(&app, &client, &secret.unwrap(), "email wallet:read").await;
    assert!(answer.body.get("id_token").is_none(), "{}", answer.body);
}

#[tokio::test]
async fn id_token_is_not_an_access_token() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    app.user(EMAIL).await;
    let answer = tokens(&app, &client, &secret, "openid").await;
    let id_token = answer.str("id_token");
    // RFC 9068 §4: a JWT without typ at+jwt is not accepted as an access token.
    let response = app
        .http
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(&id_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(!crate::oauth_kit::active(&app, &client, &secret, &id_token).await);
}

#[tokio::test]
async fn id_token_verifies_for_every_algorithm_a_client_may_register() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    for alg in SigningAlg::ALL {
        let (client, secret) = app
            .client(portcullis_core::admin::clients::NewClient {
                id_token_alg: alg,
                ..confidential(alg.as_str())
            })
            .await;
        let answer = tokens(&app, &client, &secret.unwrap(), "openid").await;
        let (header, claims) = verify_jwt(&app, &answer.str("id_token"), client.id.as_str()).await;
        assert_eq!(format!("{:?}", header.alg), alg.as_str());
        let at_hash = claims["at_hash"].as_str().unwrap();
        if alg == SigningAlg::EdDsa {
            // Left half of SHA-512 for Ed25519: 32 bytes.
            assert_eq!(URL_SAFE_NO_PAD.decode(at_hash).unwrap().len(), 32);
        } else {
            assert_eq!(
                at_hash,
                at_hash_sha256(&answer.str("access_token")),
                "{alg:?}"
            );
        }
    }
}
