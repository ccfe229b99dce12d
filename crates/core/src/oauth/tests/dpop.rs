//! DPoP (RFC 9449) through the grants and at resources: what a proof binds, what a bound code
//! or refresh token demands, and how a bound access token must be presented.

use portcullis_proto::{ClientId, Secret};
use serde_json::{Value, json};

use super::bench::{APP, Bench, NATIVE, NATIVE_REDIRECT, VERIFIER};
use crate::jose::tests::TestKey;
use crate::jose::{PublicJwk, sha256_b64};
use crate::oauth::TokenError;
use crate::oauth::access::{self, AccessError, PresentedToken, Scheme};
use crate::oauth::dpop::{self, DpopError, Presented, Proof};
use crate::oauth::grant::GrantRequest;
use crate::oauth::issue::Issued;
use crate::store::{ClientStore as _, MaintenanceStore as _, ReplayStore as _};

const TOKEN_URI: &str = "https://as.example/oauth/token";
const RESOURCE_URI: &str = "https://as.example/api/v1/wallet/me";

/// A client's DPoP key and the proofs it makes.
struct Holder {
    key: TestKey,
    serial: std::cell::Cell<u32>,
}

impl Holder {
    fn new(key: TestKey) -> Self {
        Self {
            key,
            serial: std::cell::Cell::new(0),
        }
    }

    fn jkt(&self) -> String {
        PublicJwk::from_json(&self.key.jwk()).unwrap().thumbprint()
    }

    /// A fresh proof for `method` and `uri` at `bench`'s time, with `extra` claims.
    fn proof(&self, bench: &Bench, method: &str, uri: &str, extra: &Value) -> String {
        self.serial.set(self.serial.get() + 1);
        let mut claims = json!({
            "jti": format!("jti-{}", self.serial.get()),
            "htm": method,
            "htu": uri,
            "iat": bench.now().0,
        });
        for (name, value) in extra.as_object().unwrap() {
            claims[name] = value.clone();
        }
        let header = json!({"typ": "dpop+jwt", "alg": self.key.alg(), "jwk": self.key.jwk()});
        self.key.jws(&header, &claims)
    }

    /// A proof for the token endpoint, accepted as the endpoint accepts it (jti spent).
    async fn accepted(&self, bench: &Bench) -> Proof {
        let proofs = [self.proof(bench, "POST", TOKEN_URI, &json!({}))];
        dpop::accept::<TokenError>(&bench.ctx(), &token_endpoint(&proofs))
            .await
            .unwrap()
            .unwrap()
    }

    /// A proof for a GET of the resource with `token`.
    fn at_resource(&self, bench: &Bench, token: &Secret) -> String {
        let ath = json!({ "ath": sha256_b64(token.expose()) });
        self.proof(bench, "GET", RESOURCE_URI, &ath)
    }
}

fn token_endpoint(proofs: &[String]) -> Presented<'_> {
    Presented {
        proofs,
        method: "POST",
        uri: TOKEN_URI,
        access_token: None,
        nonce_required: false,
    }
}

fn code_request(code: &str, redirect_uri: &str) -> GrantRequest {
    GrantRequest::AuthorizationCode {
        code: Secret::new(code),
        redirect_uri: Some(redirect_uri.into()),
        code_verifier: Some(Secret::new(VERIFIER)),
    }
}

fn refresh_request(token: &Secret) -> GrantRequest {
    GrantRequest::RefreshToken {
        refresh_token: token.clone(),
        scope: None,
    }
}

async fn at_resource(
    bench: &Bench,
    scheme: Scheme,
    token: &Secret,
    proofs: &[String],
) -> Result<String, AccessError> {
    let presented = PresentedToken {
        scheme,
        token: token.expose(),
        proofs,
        method: "GET",
        uri: RESOURCE_URI,
    };
    access::check_presented(&bench.ctx(), &presented)
        .await
        .map(|claims| claims.sub)
}

async fn stored_binding(bench: &Bench, issued: &Issued) -> Option<String> {
    let token = issued.refresh_token.as_ref().unwrap();
    bench.refresh_record(token).await.jkt
}

/// A code of [`APP`] for `scope`, redeemed with a proof of `holder`.
async fn redeemed_with_proof(bench: &Bench, holder: &Holder, scope: &str) -> Issued {
    let code = bench.code(scope).await;
    let proof = holder.accepted(bench).await;
    bench
        .token_with_proof(
            APP,
            code_request(&code, super::bench::APP_REDIRECT),
            Some(&proof),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_proof_binds_the_access_token_which_then_needs_the_dpop_scheme_and_that_key() {
    let bench = Bench::new().await;
    let holder = Holder::new(TestKey::ec());
    let issued = redeemed_with_proof(&bench, &holder, "openid profile").await;
    assert_eq!(issued.token_type(), "DPoP");
    assert_eq!(issued.jkt.as_deref(), Some(holder.jkt().as_str()));
    let claims = access::check(&bench.ctx(), issued.access_token.expose())
        .await
        .unwrap();
    assert_eq!(claims.jkt(), Some(holder.jkt().as_str()));
    let token = &issued.access_token;

    // As Bearer it is refused, with or without a proof beside it.
    assert!(matches!(
        at_resource(&bench, Scheme::Bearer, token, &[]).await,
        Err(AccessError::BoundTokenAsBearer)
    ));
    let proof = holder.at_resource(&bench, token);
    assert!(matches!(
        at_resource(&bench, Scheme::Bearer, token, &[proof]).await,
        Err(AccessError::BoundTokenAsBearer)
    ));
    // Under DPoP: without a proof, with another key's, with a proof for another token.
    assert!(matches!(
        at_resource(&bench, Scheme::Dpop, token, &[]).await,
        Err(AccessError::Dpop(DpopError::Invalid(_)))
    ));
    let stranger = Holder::new(TestKey::ed());
    let foreign = stranger.at_resource(&bench, token);
    assert!(matches!(
        at_resource(&bench, Scheme::Dpop, token, &[foreign]).await,
        Err(AccessError::KeyMismatch)
    ));
    let other_token = holder.at_resource(&bench, &Secret::new("another.token.value"));
    assert!(matches!(
        at_resource(&bench, Scheme::Dpop, token, &[other_token]).await,
        Err(AccessError::Dpop(DpopError::Invalid(why))) if why.contains("ath")
    ));
    // The right proof passes once; the same proof again is a replay.
    let good = holder.at_resource(&bench, token);
    assert_eq!(
        at_resource(&bench, Scheme::Dpop, token, std::slice::from_ref(&good))
            .await
            .unwrap(),
        super::bench::ALICE
    );
    assert!(matches!(
        at_resource(&bench, Scheme::Dpop, token, &[good]).await,
        Err(AccessError::Dpop(DpopError::Invalid(why))) if why.contains("already used")
    ));
    // Introspection reports the binding (RFC 9449 §6.2).
    let report = bench.introspect(token).await;
    assert_eq!(report.token_type.as_deref(), Some("DPoP"));
    assert_eq!(report.cnf.map(|c| c.jkt), Some(holder.jkt()));
}

#[tokio::test]
async fn an_unbound_token_is_refused_under_the_dpop_scheme_and_passes_as_bearer() {
    let bench = Bench::new().await;
    let issued = bench.issued("openid").await;
    assert_eq!(issued.token_type(), "Bearer");
    let holder = Holder::new(TestKey::rsa());
    let proof = holder.at_resource(&bench, &issued.access_token);
    assert!(matches!(
        at_resource(&bench, Scheme::Dpop, &issued.access_token, &[proof]).await,
        Err(AccessError::NotBound)
    ));
    at_resource(&bench, Scheme::Bearer, &issued.access_token, &[])
        .await
        .unwrap();
    assert_eq!(
        bench.introspect(&issued.access_token).await.cnf,
        None,
        "no binding to report"
    );
}

#[tokio::test]
async fn a_code_bound_with_dpop_jkt_is_redeemed_only_with_a_proof_of_that_key() {
    let bench = Bench::new().await;
    let holder = Holder::new(TestKey::ed());
    let code = bench.code_for(APP, "openid", Some(&holder.jkt())).await;
    let request = || code_request(&code, super::bench::APP_REDIRECT);
    assert!(matches!(
        bench.token(APP, request()).await,
        Err(TokenError::DpopUnproven("authorization code"))
    ));
    let stranger = Holder::new(TestKey::ec()).accepted(&bench).await;
    let refused = bench
        .token_with_proof(APP, request(), Some(&stranger))
        .await;
    assert!(matches!(refused, Err(TokenError::DpopKeyMismatch(_))));
    assert_eq!(
        refused.unwrap_err().code(),
        portcullis_proto::ErrorCode::InvalidGrant
    );
    // Neither refusal spent the code.
    let proof = holder.accepted(&bench).await;
    let issued = bench
        .token_with_proof(APP, request(), Some(&proof))
        .await
        .unwrap();
    assert_eq!(issued.jkt, Some(holder.jkt()));
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_bound_to_its_key_and_stays_bound() {
    let bench = Bench::new().await;
    let holder = Holder::new(TestKey::ec());
    let code = bench.code_for(NATIVE, "openid", None).await;
    let proof = holder.accepted(&bench).await;
    let issued = bench
        .token_with_proof(NATIVE, code_request(&code, NATIVE_REDIRECT), Some(&proof))
        .await
        .unwrap();
    assert_eq!(stored_binding(&bench, &issued).await, Some(holder.jkt()));
    let refresh = issued.refresh_token.clone().unwrap();

    // Without a proof, or with another key: refused, and the token is not spent.
    assert!(matches!(
        bench.token(NATIVE, refresh_request(&refresh)).await,
        Err(TokenError::DpopUnproven("refresh token"))
    ));
    let thief = Holder::new(TestKey::ec()).accepted(&bench).await;
    assert!(matches!(
        bench
            .token_with_proof(NATIVE, refresh_request(&refresh), Some(&thief))
            .await,
        Err(TokenError::DpopKeyMismatch("refresh token"))
    ));
    let proof = holder.accepted(&bench).await;
    let next = bench
        .token_with_proof(NATIVE, refresh_request(&refresh), Some(&proof))
        .await
        .unwrap();
    assert_eq!(next.jkt, Some(holder.jkt()));
    assert_eq!(
        stored_binding(&bench, &next).await,
        Some(holder.jkt()),
        "the successor keeps the binding"
    );
}

#[tokio::test]
async fn a_confidential_clients_refresh_token_is_bound_by_its_authentication_not_the_key() {
    let bench = Bench::new().await;
    let holder = Holder::new(TestKey::ec());
    let issued = redeemed_with_proof(&bench, &holder, "openid").await;
    assert_eq!(issued.jkt, Some(holder.jkt()));
    assert_eq!(stored_binding(&bench, &issued).await, None);
    // A rotated key refreshes; the new access token is bound to the new key.
    let rotated = Holder::new(TestKey::ed());
    let proof = rotated.accepted(&bench).await;
    let next = bench
        .token_with_proof(
            APP,
            refresh_request(issued.refresh_token.as_ref().unwrap()),
            Some(&proof),
        )
        .await
        .unwrap();
    assert_eq!(next.jkt, Some(rotated.jkt()));
}

#[tokio::test]
async fn a_client_registered_with_dpop_bound_access_tokens_gets_nothing_without_a_proof() {
    let bench = Bench::new().await;
    let mut app = bench
        .store
        .client(&ClientId::new(APP))
        .await
        .unwrap()
        .unwrap();
    app.dpop_bound_access_tokens = true;
    assert!(bench.store.update_client(&app).await.unwrap());
    let credentials = || GrantRequest::ClientCredentials { scope: None };
    let refused = bench.token(APP, credentials()).await;
    assert!(matches!(refused, Err(TokenError::DpopRequired)));
    assert_eq!(
        refused.unwrap_err().code(),
        portcullis_proto::ErrorCode::InvalidDpopProof
    );
    let holder = Holder::new(TestKey::rsa());
    let proof = holder.accepted(&bench).await;
    let issued = bench
        .token_with_proof(APP, credentials(), Some(&proof))
        .await
        .unwrap();
    assert_eq!(issued.token_type(), "DPoP");
}

async fn accept(bench: &Bench, presented: Presented<'_>) -> Result<Option<Proof>, TokenError> {
    dpop::accept::<TokenError>(&bench.ctx(), &presented).await
}

#[tokio::test]
async fn accept_takes_one_header_a_fresh_nonce_when_asked_and_each_jti_once_until_it_lapses() {
    let bench = Bench::new().await;
    let holder = Holder::new(TestKey::ec());
    let bench = &bench;
    // No header: no proof, no error.
    assert!(accept(bench, token_endpoint(&[])).await.unwrap().is_none());
    // Two headers: refused (RFC 9449 §4.3 step 1).
    let two = [
        holder.proof(bench, "POST", TOKEN_URI, &json!({})),
        holder.proof(bench, "POST", TOKEN_URI, &json!({})),
    ];
    assert!(matches!(
        accept(bench, token_endpoint(&two)).await,
        Err(TokenError::Dpop(DpopError::Invalid(_)))
    ));
    // A nonce required and missing: use_dpop_nonce with the current one, which then passes.
    let bare = [holder.proof(bench, "POST", TOKEN_URI, &json!({}))];
    let noncing = |proofs| Presented {
        nonce_required: true,
        ..token_endpoint(proofs)
    };
    let Err(TokenError::Dpop(DpopError::UseNonce(nonce))) = accept(bench, noncing(&bare)).await
    else {
        panic!("a nonce must be asked for");
    };
    assert_eq!(nonce, dpop::current_nonce(&bench.ctx()));
    let with_nonce = [holder.proof(bench, "POST", TOKEN_URI, &json!({ "nonce": nonce }))];
    let proof = accept(bench, noncing(&with_nonce)).await.unwrap().unwrap();
    // The refused proof without a nonce spent nothing: it passes where no nonce is needed.
    accept(bench, token_endpoint(&bare)).await.unwrap().unwrap();
    // Replays are refused until the proof could no longer pass anyway, and then forgotten.
    assert!(matches!(
        accept(bench, token_endpoint(&bare)).await,
        Err(TokenError::Dpop(DpopError::Invalid(why))) if why.contains("already used")
    ));
    bench.clock.advance(dpop::MAX_AGE + 2);
    assert!(bench.store.delete_expired(bench.now()).await.unwrap() >= 2);
    let id = format!("dpop:{}:{}", proof.jkt, proof.jti);
    assert!(
        bench
            .store
            .spend_once(&id, bench.now(), bench.now().plus(60))
            .await
            .unwrap(),
        "housekeeping forgot the lapsed jti"
    );
}
