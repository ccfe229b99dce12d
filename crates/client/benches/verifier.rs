//! What checking one access token costs a resource server: signature, header and claims,
//! with the key already cached (the steady state). ES256 is Portcullis's default, EdDSA the
//! cheaper alternative.
//!
//! `cargo bench -p portcullis-client --bench verifier`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
#![allow(clippy::disallowed_methods)] // Tests and benches read the real clock and randomness where the server's are not in play.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_client::verifier::{Algorithm, Verifier};
use portcullis_proto::jwks::JwkSet;
use serde_json::{Value, json};

const ISSUER: &str = "https://auth.example.com";

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// Claims as Portcullis issues them for a user's token.
fn claims() -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({
        "iss": ISSUER, "sub": "usr_01JD3X0N4Q8Z", "aud": ISSUER, "client_id": "cli_bench",
        "scope": "openid wallet:read orders:read", "exp": now + 3600, "iat": now,
        "jti": "tok_01JD3X0N4Q8ZBENCH", "gid": "grt_01JD3X0N4Q8Z",
    })
}

/// A signed token and the key set that verifies it.
fn es256() -> (String, JwkSet) {
    let random = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let input = format!(
        "{}.{}",
        b64(&json!({"alg": "ES256", "typ": "at+jwt", "kid": "k-es"})),
        b64(&claims())
    );
    let signature = pair.sign(&random, input.as_bytes()).unwrap();
    let jwks = json!({"keys": [{
        "kty": "EC", "kid": "k-es", "use": "sig", "alg": "ES256", "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    }]});
    (
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref())),
        serde_json::from_value(jwks).unwrap(),
    )
}

fn eddsa() -> (String, JwkSet) {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let input = format!(
        "{}.{}",
        b64(&json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "k-ed"})),
        b64(&claims())
    );
    let signature = pair.sign(input.as_bytes());
    let jwks = json!({"keys": [{
        "kty": "OKP", "kid": "k-ed", "use": "sig", "alg": "EdDSA", "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
    }]});
    (
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref())),
        serde_json::from_value(jwks).unwrap(),
    )
}

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, alg, (token, jwks)) in [
        ("verify ES256", Algorithm::Es256, es256()),
        ("verify EdDSA", Algorithm::EdDsa, eddsa()),
    ] {
        let verifier = runtime
            .block_on(
                Verifier::builder(ISSUER)
                    .jwks(jwks)
                    .algorithms(&[alg])
                    .build(),
            )
            .expect("verifier");
        // A bench that measured a rejection would be meaningless.
        runtime
            .block_on(verifier.verify(&token))
            .expect("token verifies");
        c.bench_function(name, |b| {
            b.iter(|| runtime.block_on(verifier.verify(std::hint::black_box(&token))));
        });
    }
}

criterion_group!(benches, verify);
criterion_main!(benches);
