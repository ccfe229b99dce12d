//! One bench for every protocol test: a memory store, a manual clock, a key ring, settings and
//! an audit sink, from which a [`Context`] is borrowed; and the fixtures the tests share (a
//! user, a confidential and a public client, codes, pending requests).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use portcullis_proto::token::IntrospectionResponse;
use portcullis_proto::{ClientId, ScopeSet, Secret, UserId};

use crate::audit::{AuditKind, MemorySink};
use crate::banking::accounts::BankingSettings;
use crate::client::{Client, ClientKind, ClientSecrets, GrantType, PkcePolicy, RedirectUri};
use crate::client_cache::ClientCache;
use crate::hash::SecretHash;
use crate::keys::{KeyEncryptionKey, KeyRing, SigningAlg};
use crate::memory::MemoryStore;
use crate::oauth::authorize::{LoggedIn, Step};
use crate::oauth::client_auth::{AuthMethod, AuthenticatedClient};
use crate::oauth::grant::{GrantRequest, exchange};
use crate::oauth::issue::Issued;
use crate::oauth::{Context, OAuthSettings, TokenError};
use crate::pkce::ChallengeMethod;
use crate::random::OsRandom;
use crate::scopes::ScopeRegistry;
use crate::seal::Sealer;
use crate::store::{
    AuthRequestRecord, ClientStore as _, CodeChallenge, CodeRecord, CodeStore as _, ConsentRecord,
    ConsentStore as _, UserStore as _,
};
use crate::time::{Clock as _, ManualClock, UnixTime};
use crate::user::User;

/// When every test starts.
pub const START: i64 = 1_800_000_000;
/// The issuer of the bench's tokens.
pub const ISSUER: &str = "https://as.example";
/// The confidential client: authorization code, refresh token and client credentials.
pub const APP: &str = "app";
/// A public client with a loopback redirect URI (a native app).
pub const NATIVE: &str = "native";
/// Its secret.
pub const APP_SECRET: &str = "app-secret";
/// The redirect URI of [`APP`].
pub const APP_REDIRECT: &str = "https://app.example/cb";
/// The redirect URI of [`NATIVE`].
pub const NATIVE_REDIRECT: &str = "http://127.0.0.1:8000/cb";
/// The user.
pub const ALICE: &str = "alice";
/// A PKCE verifier (RFC 7636 appendix B).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

#[derive(Debug)]
pub struct Bench {
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
    pub keys: KeyRing,
    pub settings: OAuthSettings,
    pub audit: MemorySink,
    pub sealer: Sealer,
    pub clients: ClientCache,
    /// Banking off unless a test turns it on (then scopes about money need onboarding).
    pub banking: BankingSettings,
    /// Numbers the codes and requests the bench makes.
    serial: AtomicUsize,
}

impl Bench {
    /// A store with [`ALICE`], [`APP`] and [`NATIVE`], and a signing key for each algorithm
    /// the clients use.
    pub async fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(UnixTime(START)));
        let kek =
            KeyEncryptionKey::from_base64(&KeyEncryptionKey::generate_base64(&OsRandom).unwrap())
                .unwrap();
        let algs = [SigningAlg::Es256, SigningAlg::Rs256];
        crate::keys::manage::ensure_keys(store.as_ref(), &kek, &OsRandom, clock.as_ref(), &algs)
            .await
            .unwrap();
        let keys = crate::keys::manage::load_ring(store.as_ref(), &kek, None, 86_400)
            .await
            .unwrap();
        let clients = ClientCache::new(store.clone(), clock.clone(), 0);
        let bench = Self {
            store,
            clock,
            keys,
            settings: OAuthSettings {
                pushed_request_ttl: crate::oauth::par::DEFAULT_TTL,
                require_pushed_authorization_requests: false,
                issuer: ISSUER.into(),
                audience: ISSUER.into(),
                access_token_alg: SigningAlg::Es256,
                auth_request_ttl: 600,
                scopes: ScopeRegistry::default(),
                max_access_token_ttl: 86_400,
            },
            audit: MemorySink::default(),
            sealer: Sealer::from_root(&[9u8; 32]),
            clients,
            banking: BankingSettings {
                enabled: false,
                kyc_auto_approve: false,
                funding: false,
            },
            serial: AtomicUsize::new(0),
        };
        bench.store.insert_user(&user(ALICE)).await.unwrap();
        bench.store.insert_client(&app()).await.unwrap();
        bench.store.insert_client(&native()).await.unwrap();
        bench
    }

    fn next(&self) -> usize {
        self.serial.fetch_add(1, Ordering::Relaxed)
    }

    /// The protocol's view of the bench.
    pub fn ctx(&self) -> Context<'_> {
        Context {
            store: self.store.as_ref(),
            clock: self.clock.as_ref(),
            random: &OsRandom,
            keys: &self.keys,
            settings: &self.settings,
            audit: &self.audit,
            banking: self.banking,
            client_ip: None,
            sealer: &self.sealer,
        }
    }

    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// The stored client, as client authentication hands it on.
    pub async fn authenticated(&self, id: &str, method: AuthMethod) -> AuthenticatedClient {
        let client = self
            .store
            .client(&ClientId::new(id))
            .await
            .unwrap()
            .unwrap();
        AuthenticatedClient {
            client: Arc::new(client),
            method,
        }
    }

    /// Runs a grant for `client` at the token endpoint.
    pub async fn token(&self, client: &str, request: GrantRequest) -> Result<Issued, TokenError> {
        self.token_with_proof(client, request, None).await
    }

    /// Runs a grant for `client` with an accepted DPoP `proof`.
    pub async fn token_with_proof(
        &self,
        client: &str,
        request: GrantRequest,
        proof: Option<&crate::oauth::dpop::Proof>,
    ) -> Result<Issued, TokenError> {
        let client = self.authenticated(client, AuthMethod::Basic).await;
        exchange(&self.ctx(), &client, request, proof).await
    }

    /// Redeems `code` for [`APP`] with its redirect URI and `verifier`.
    pub async fn redeem(&self, code: &str, verifier: Option<&str>) -> Result<Issued, TokenError> {
        self.token(
            APP,
            GrantRequest::AuthorizationCode {
                code: Secret::new(code),
                redirect_uri: Some(APP_REDIRECT.into()),
                code_verifier: verifier.map(Secret::new),
            },
        )
        .await
    }

    /// Refreshes with `token` for [`APP`], optionally for a narrower `scope`.
    pub async fn refresh(&self, token: &Secret, scope: Option<&str>) -> Result<Issued, TokenError> {
        self.token(
            APP,
            GrantRequest::RefreshToken {
                refresh_token: token.clone(),
                scope: scope.map(str::to_owned),
            },
        )
        .await
    }

    /// The stored record of the refresh token `token`.
    pub async fn refresh_record(&self, token: &Secret) -> crate::store::RefreshTokenRecord {
        use crate::store::RefreshTokenStore as _;
        self.store
            .refresh_token(&SecretHash::of(token.expose()))
            .await
            .unwrap()
            .expect("a stored refresh token")
    }

    /// Remembers that [`ALICE`] approved `scope` for `client`.
    pub async fn consent(&self, client: &str, scope: &str) {
        self.store
            .put_consent(&ConsentRecord {
                user_id: UserId::new(ALICE),
                client_id: ClientId::new(client),
                scope: scopes(scope),
                profile_id: None,
                created_at: self.now(),
                updated_at: self.now(),
            })
            .await
            .unwrap();
    }

    /// Issues a code for [`APP`] and [`ALICE`] (with her consent to `scope`), bound to the S256
    /// challenge of [`VERIFIER`], as the authorization endpoint does; returns the code.
    pub async fn code(&self, scope: &str) -> String {
        self.code_for(APP, scope, None).await
    }

    /// As [`Self::code`] for `client` (its registered redirect URI), bound to the DPoP key
    /// `dpop_jkt` as the `dpop_jkt` parameter does.
    pub async fn code_for(&self, client: &str, scope: &str, dpop_jkt: Option<&str>) -> String {
        self.consent(client, scope).await;
        let code = format!("code-{}", self.next());
        let now = self.now();
        self.store
            .insert_code(&CodeRecord {
                hash: SecretHash::of(&code),
                client_id: ClientId::new(client),
                user_id: UserId::new(ALICE),
                redirect_uri: redirect_of(client).into(),
                redirect_uri_given: true,
                scope: scopes(scope),
                challenge: Some(CodeChallenge {
                    challenge: crate::pkce::s256_challenge(VERIFIER),
                    method: ChallengeMethod::S256,
                }),
                nonce: Some("n-1".into()),
                profile_id: None,
                auth_time: now,
                created_at: now,
                expires_at: now.plus(crate::oauth::CODE_TTL_SECONDS),
                redeemed_at: None,
                grant_id: None,
                sid: None,
                dpop_jkt: dpop_jkt.map(str::to_owned),
            })
            .await
            .unwrap();
        code
    }

    /// A code redeemed: what the token endpoint issued for it.
    pub async fn issued(&self, scope: &str) -> Issued {
        let code = self.code(scope).await;
        self.redeem(&code, Some(VERIFIER)).await.unwrap()
    }

    /// A pending request of `client` for `scope` with `prompt`, sealed as the authorization
    /// endpoint seals it.
    pub fn request(&self, client: &str, scope: &str, prompt: &str) -> AuthRequestRecord {
        let redirect_uri = redirect_of(client);
        let now = self.now();
        let record = AuthRequestRecord {
            id: format!("req-{}", self.next()),
            handle: String::new(),
            client_id: ClientId::new(client),
            redirect_uri: redirect_uri.into(),
            redirect_uri_given: true,
            scope: scopes(scope),
            state: Some("st".into()),
            challenge: Some(CodeChallenge {
                challenge: crate::pkce::s256_challenge(VERIFIER),
                method: ChallengeMethod::S256,
            }),
            nonce: None,
            prompt: prompt.into(),
            max_age: None,
            dpop_jkt: None,
            created_at: now,
            expires_at: now.plus(self.settings.auth_request_ttl),
            answered_by: None,
        };
        crate::oauth::authorize::sealed::seal(&self.ctx(), record).unwrap()
    }

    /// The stored user.
    pub async fn alice(&self) -> User {
        self.store.user(&UserId::new(ALICE)).await.unwrap().unwrap()
    }

    /// Kinds of the audit events recorded so far, in order.
    pub fn audited(&self) -> Vec<AuditKind> {
        self.audit.events().iter().map(|e| e.kind).collect()
    }

    /// Introspects `token` as [`APP`].
    pub async fn introspect(&self, token: &Secret) -> IntrospectionResponse {
        let client = self.authenticated(APP, AuthMethod::Basic).await;
        crate::oauth::introspection::introspect(&self.ctx(), &client, token)
            .await
            .unwrap()
    }
}

/// [`ALICE`], logged in at `auth_time` in the session `session`.
pub fn logged_in<'a>(user: &'a User, auth_time: UnixTime, session: &'a SecretHash) -> LoggedIn<'a> {
    LoggedIn {
        user,
        auth_time,
        session,
    }
}

/// The code a redirect URL carries; panics on any other step.
pub fn code_of(step: &Step) -> String {
    query_of(step, "code").unwrap_or_else(|| panic!("no code in {step:?}"))
}

/// A parameter of the redirect URL of `step`, if it is a redirect that has it.
pub fn query_of(step: &Step, name: &str) -> Option<String> {
    let Step::Redirect(url) = step else {
        return None;
    };
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// The redirect URI registered for `client` ([`APP`] or [`NATIVE`]).
pub fn redirect_of(client: &str) -> &'static str {
    if client == NATIVE {
        NATIVE_REDIRECT
    } else {
        APP_REDIRECT
    }
}

pub fn scopes(text: &str) -> ScopeSet {
    ScopeSet::parse(text).unwrap()
}

pub fn user(id: &str) -> User {
    User {
        id: UserId::new(id),
        email: format!("{id}@example.com"),
        name: id.into(),
        password_hash: None,
        disabled: false,
        contact: crate::oauth::claims::Contact::default(),
        created_at: UnixTime(START - 1_000),
        updated_at: UnixTime(START - 1_000),
    }
}

fn app() -> Client {
    Client {
        id: ClientId::new(APP),
        name: "App".into(),
        kind: ClientKind::Confidential,
        secrets: ClientSecrets {
            current: Some(SecretHash::of(APP_SECRET)),
            previous: None,
        },
        redirect_uris: vec![RedirectUri::parse(APP_REDIRECT).unwrap()],
        post_logout_redirect_uris: Vec::new(),
        web_origins: Vec::new(),
        dpop_bound_access_tokens: false,
        require_pushed_authorization_requests: false,
        jwks: None,
        grant_types: BTreeSet::from([
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ]),
        scopes: scopes("openid profile email wallet:read"),
        access_token_ttl: 300,
        refresh_token_ttl: 3_600,
        pkce: PkcePolicy::S256Required,
        id_token_alg: SigningAlg::Rs256,
        partner: false,
        admin: false,
        enabled: true,
        logo_uri: None,
        homepage_uri: None,
        created_at: UnixTime(START - 1_000),
        updated_at: UnixTime(START - 1_000),
    }
}

fn native() -> Client {
    Client {
        id: ClientId::new(NATIVE),
        name: "Native".into(),
        kind: ClientKind::Public,
        secrets: ClientSecrets::default(),
        redirect_uris: vec![RedirectUri::parse(NATIVE_REDIRECT).unwrap()],
        grant_types: BTreeSet::from([GrantType::AuthorizationCode, GrantType::RefreshToken]),
        ..app()
    }
}
