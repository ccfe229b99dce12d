//! Storage traits, each sized to one capability. The `portcullis-store` crate implements them
//! for SQLite and PostgreSQL; the core only ever sees these traits.
//!
//! Operations that must be atomic (consuming a code, rotating a refresh token) are single
//! methods here, so that no caller can split them across transactions.

use async_trait::async_trait;
use portcullis_proto::{ClientId, GrantId, KeyId, ProfileId, ScopeSet, UserId};

use crate::client::Client;
use crate::hash::SecretHash;
use crate::keys::StoredKey;
use crate::pkce::ChallengeMethod;
use crate::time::UnixTime;
use crate::user::User;

/// A storage failure, sorted by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached, or is overloaded: retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was broken (the row already exists).
    #[error("already exists: {0}")]
    Conflict(String),
    /// A stored value could not be read back into the domain.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Anything else the database reported.
    #[error("database error: {0}")]
    Other(String),
}

/// One page of a list, ordered by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor for the next page, if there is one.
    pub next: Option<String>,
}

/// Which page of a list to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Items after this cursor (an id).
    pub after: Option<String>,
    /// At most this many items.
    pub limit: u32,
}

impl PageRequest {
    /// The largest page a caller may ask for.
    pub const MAX_LIMIT: u32 = 200;

    /// A request for the first page.
    #[must_use]
    pub fn first(limit: u32) -> Self {
        Self {
            after: None,
            limit: limit.clamp(1, Self::MAX_LIMIT),
        }
    }
}

/// Connection pool occupancy, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

/// Liveness of the database, for `/readyz` and `/metrics`.
#[async_trait]
pub trait HealthStore: Send + Sync {
    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Connection pool occupancy.
    fn pool_stats(&self) -> PoolStats;
}

/// Signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Adds a key.
    async fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError>;
    /// Every stored key.
    async fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// Deletes keys (retired ones). Returns how many were deleted.
    async fn delete_keys(&self, kids: &[KeyId]) -> Result<u64, StoreError>;
}

/// Registered clients.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Adds a client; [`StoreError::Conflict`] if the id exists.
    async fn insert_client(&self, client: &Client) -> Result<(), StoreError>;
    /// The client with this id.
    async fn client(&self, id: &ClientId) -> Result<Option<Client>, StoreError>;
    /// Replaces a client's stored settings; `false` if it does not exist.
    async fn update_client(&self, client: &Client) -> Result<bool, StoreError>;
    /// Deletes a client and everything issued to it; `false` if it did not exist.
    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError>;
    /// Clients ordered by id.
    async fn list_clients(&self, page: &PageRequest) -> Result<Page<Client>, StoreError>;
    /// Whether an enabled client registered `origin` as a web origin: what a CORS preflight,
    /// which names no client, is answered by.
    async fn origin_registered(&self, origin: &str) -> Result<bool, StoreError>;
}

/// User accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Adds a user; [`StoreError::Conflict`] if the email is taken.
    async fn insert_user(&self, user: &User) -> Result<(), StoreError>;
    /// The user with this id.
    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// The user with this (normalised) email.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    /// Replaces a user's stored fields; `false` if it does not exist.
    async fn update_user(&self, user: &User) -> Result<bool, StoreError>;
    /// Users ordered by id.
    async fn list_users(&self, page: &PageRequest) -> Result<Page<User>, StoreError>;
}

/// A grant: the line of tokens that began with one authorization code. Revoking it ends every
/// refresh token of the line, and makes its access tokens inactive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// The grant id (the `gid` claim of its access tokens).
    pub id: GrantId,
    /// The user who authorized it.
    pub user_id: UserId,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The scope granted.
    pub scope: ScopeSet,
    /// The profile the grant acts for, when bound to one.
    pub profile_id: Option<ProfileId>,
    /// When the user authenticated.
    pub auth_time: UnixTime,
    /// When the code was redeemed.
    pub created_at: UnixTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<UnixTime>,
}

/// A refresh token, by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// SHA-256 of the token.
    pub hash: SecretHash,
    /// Its grant.
    pub grant_id: GrantId,
    /// The client it is bound to.
    pub client_id: ClientId,
    /// Its scope (a refresh keeps it; the access token may be narrower).
    pub scope: ScopeSet,
    /// Issue time.
    pub created_at: UnixTime,
    /// Expiry.
    pub expires_at: UnixTime,
    /// When it was exchanged for its successor; presenting it again is reuse.
    pub rotated_at: Option<UnixTime>,
    /// The JWK thumbprint of the DPoP key it is bound to (RFC 9449 §5): a refresh must prove
    /// possession of that key. Public clients' tokens are bound when issued with a proof.
    pub jkt: Option<String>,
}

/// A PKCE challenge as bound to a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge {
    /// The challenge.
    pub challenge: String,
    /// Its method.
    pub method: ChallengeMethod,
}

/// An authorization code, by digest, with everything it is bound to (RFC 6749 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    /// SHA-256 of the code.
    pub hash: SecretHash,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The user who authorized it.
    pub user_id: UserId,
    /// The redirect URI it was sent to.
    pub redirect_uri: String,
    /// Whether the authorization request named the redirect URI (then the token request must).
    pub redirect_uri_given: bool,
    /// The scope granted.
    pub scope: ScopeSet,
    /// The PKCE challenge, if one was sent.
    pub challenge: Option<CodeChallenge>,
    /// The OpenID Connect nonce, if one was sent.
    pub nonce: Option<String>,
    /// The profile the grant acts for.
    pub profile_id: Option<ProfileId>,
    /// When the user authenticated.
    pub auth_time: UnixTime,
    /// Issue time.
    pub created_at: UnixTime,
    /// Expiry (60 seconds after issue).
    pub expires_at: UnixTime,
    /// When it was redeemed.
    pub redeemed_at: Option<UnixTime>,
    /// The grant its redemption created.
    pub grant_id: Option<GrantId>,
    /// The browser session it was issued in, as the ID token's `sid` ([`crate::session::sid`]).
    pub sid: Option<String>,
    /// The DPoP key the authorization request bound it to (`dpop_jkt`, RFC 9449 §10): the
    /// token request's proof must be signed with that key.
    pub dpop_jkt: Option<String>,
}

/// What a user approved for a client; covers later requests for the same or fewer scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    /// The user.
    pub user_id: UserId,
    /// The client.
    pub client_id: ClientId,
    /// The scopes approved.
    pub scope: ScopeSet,
    /// The profile chosen.
    pub profile_id: Option<ProfileId>,
    /// First approval.
    pub created_at: UnixTime,
    /// Last change.
    pub updated_at: UnixTime,
}

/// A browser session, by digest of its cookie value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session id the cookie holds.
    pub id_hash: SecretHash,
    /// The logged-in user; `None` before login.
    pub user_id: Option<UserId>,
    /// The synchronizer token every form of this session carries.
    pub csrf_token: String,
    /// When the user authenticated.
    pub auth_time: Option<UnixTime>,
    /// Creation.
    pub created_at: UnixTime,
    /// Expiry.
    pub expires_at: UnixTime,
}

/// A validated authorization request waiting for the user to log in, onboard and consent. It
/// is not stored: the browser holds it sealed (its `handle`, see
/// `oauth::authorize::sealed`); only its id is stored once it is answered
/// ([`AuthRequestStore::spend_auth_request`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequestRecord {
    /// Random id, fixed for the request's life (what is recorded when it is spent).
    pub id: String,
    /// The sealed request, as the pages carry it in their `request` parameter.
    pub handle: String,
    /// The client.
    pub client_id: ClientId,
    /// The redirect URI the response goes to.
    pub redirect_uri: String,
    /// Whether the request named it.
    pub redirect_uri_given: bool,
    /// The scope asked for (already checked against the client).
    pub scope: ScopeSet,
    /// `state`, echoed untouched.
    pub state: Option<String>,
    /// The PKCE challenge.
    pub challenge: Option<CodeChallenge>,
    /// The OpenID Connect nonce.
    pub nonce: Option<String>,
    /// `prompt` values, space-separated.
    pub prompt: String,
    /// `max_age`, seconds.
    pub max_age: Option<i64>,
    /// `dpop_jkt`: the DPoP key the code will be bound to (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
    /// Creation.
    pub created_at: UnixTime,
    /// Expiry.
    pub expires_at: UnixTime,
    /// The session whose login answered the request's `prompt=login`, `prompt=create` or
    /// `max_age` (by digest): that session need not log in again for it.
    pub answered_by: Option<SecretHash>,
}

/// Authorization codes.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Stores a new code.
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError>;
    /// The code with this digest.
    async fn code(&self, hash: &SecretHash) -> Result<Option<CodeRecord>, StoreError>;
    /// In one transaction: marks the code redeemed if it is unredeemed and unexpired at `now`,
    /// its user is enabled and the user's consent to its client still stands, and stores the
    /// grant and its first refresh token. `false` (nothing written) otherwise. Of racing
    /// redemptions exactly one wins.
    async fn redeem_code(
        &self,
        hash: &SecretHash,
        now: UnixTime,
        grant: &GrantRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<bool, StoreError>;
}

/// Grants.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// The grant with this id.
    async fn grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, StoreError>;
    /// Revokes a grant (and so its refresh tokens and access tokens); `false` if it was
    /// already revoked or does not exist.
    async fn revoke_grant(&self, id: &GrantId, now: UnixTime) -> Result<bool, StoreError>;
    /// Revokes every live grant of `user` (for one client, or all). Returns how many.
    async fn revoke_grants_of(
        &self,
        user: &UserId,
        client: Option<&ClientId>,
        now: UnixTime,
    ) -> Result<u64, StoreError>;
    /// Ends what `ending` names in one transaction: the consent (an app) or the account's
    /// sessions and its `disabled` flag (a user), every unredeemed code, and every live grant
    /// with their refresh tokens. A redemption racing it either finds its code gone or made a
    /// grant that this revokes: nothing outlives the revocation.
    async fn end_access(&self, ending: &Ending, now: UnixTime) -> Result<Ended, StoreError>;
}

/// What a revocation ends (see [`GrantStore::end_access`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// One app's access to one user: the consent is forgotten.
    App {
        /// The user.
        user: UserId,
        /// The app.
        client: ClientId,
    },
    /// Every app's access to a user who is disabled in the same transaction; consents are
    /// kept, so that enabling the account again asks nothing twice, but no code or grant
    /// survives and the account's sessions end.
    User(UserId),
}

/// What [`GrantStore::end_access`] ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ended {
    /// Consents forgotten.
    pub consents: u64,
    /// Unredeemed codes deleted.
    pub codes: u64,
    /// Grants revoked.
    pub grants: u64,
    /// Sessions ended.
    pub sessions: u64,
}

/// Refresh tokens.
#[async_trait]
pub trait RefreshTokenStore: Send + Sync {
    /// The refresh token with this digest.
    async fn refresh_token(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError>;
    /// In one transaction: marks `old` rotated if it is unrotated, unexpired and its grant is
    /// live at `now`, and stores `new`. `false` (nothing written) otherwise. Of racing
    /// rotations at most one wins.
    async fn rotate_refresh_token(
        &self,
        old: &SecretHash,
        now: UnixTime,
        new: &RefreshTokenRecord,
    ) -> Result<bool, StoreError>;
}

/// Consents.
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// What `user` approved for `client`.
    async fn consent(
        &self,
        user: &UserId,
        client: &ClientId,
    ) -> Result<Option<ConsentRecord>, StoreError>;
    /// Creates or replaces a consent.
    async fn put_consent(&self, consent: &ConsentRecord) -> Result<(), StoreError>;
    /// Deletes a consent; `false` if there was none.
    async fn delete_consent(&self, user: &UserId, client: &ClientId) -> Result<bool, StoreError>;
    /// Every consent of `user`, oldest first.
    async fn consents_of(&self, user: &UserId) -> Result<Vec<ConsentRecord>, StoreError>;
}

/// Browser sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a session.
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// The session with this digest.
    async fn session(&self, id_hash: &SecretHash) -> Result<Option<SessionRecord>, StoreError>;
    /// Ends a session.
    async fn delete_session(&self, id_hash: &SecretHash) -> Result<(), StoreError>;
    /// Ends every session of a user. Returns how many.
    async fn delete_sessions_of(&self, user: &UserId) -> Result<u64, StoreError>;
}

/// Answered authorization requests (pending ones are held by the browser, sealed).
#[async_trait]
pub trait AuthRequestStore: Send + Sync {
    /// Records that the request with `id` was answered, kept until `expires_at` (after which
    /// its handle no longer opens anyway). `true` for the one caller that recorded it, `false`
    /// when it was spent before: a conditional insert, so two nodes racing cannot both win.
    async fn spend_auth_request(&self, id: &str, expires_at: UnixTime) -> Result<bool, StoreError>;
    /// Whether the request with `id` was answered.
    async fn auth_request_spent(&self, id: &str) -> Result<bool, StoreError>;
}

/// An authorization request a client pushed (RFC 9126), by digest of its `request_uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRequestRecord {
    /// SHA-256 of the `request_uri`.
    pub id_hash: SecretHash,
    /// The client that pushed it (and alone may redeem it).
    pub client_id: ClientId,
    /// The authorization request's parameters, as pushed (validated then, and again when
    /// redeemed).
    pub params: Vec<(String, String)>,
    /// When it was pushed.
    pub created_at: UnixTime,
    /// When its `request_uri` stops working.
    pub expires_at: UnixTime,
}

/// Pushed authorization requests.
#[async_trait]
pub trait PushedRequestStore: Send + Sync {
    /// Stores a pushed request.
    async fn insert_pushed_request(&self, request: &PushedRequestRecord) -> Result<(), StoreError>;
    /// Removes and returns the request with this digest if it has not expired at `now`: of two
    /// nodes redeeming one `request_uri`, exactly one gets it.
    async fn take_pushed_request(
        &self,
        id_hash: &SecretHash,
        now: UnixTime,
    ) -> Result<Option<PushedRequestRecord>, StoreError>;
}

/// Identifiers that may be used once (a DPoP proof's `jti` per key, a client assertion's
/// `jti`), remembered until whatever carried them would be refused anyway.
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// Records `id` as used at `now`, kept until `expires_at`. `true` for the one caller that
    /// recorded it, `false` when it was used before: a conditional insert, so two nodes racing
    /// cannot both win. Ids kept until before `now` may be forgotten.
    async fn spend_once(
        &self,
        id: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<bool, StoreError>;
}

/// Access tokens revoked one by one (RFC 7009), kept until they would have expired.
#[async_trait]
pub trait RevocationStore: Send + Sync {
    /// Records that the token with `jti` is revoked.
    async fn revoke_access_token(&self, jti: &str, expires_at: UnixTime) -> Result<(), StoreError>;
    /// Whether the token with `jti` was revoked.
    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError>;
}

/// Counters for rate limits shared by every node.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Counts one event for `key` in the fixed window that starts at `window_start`, and
    /// returns the count in that window so far (this event included).
    async fn hit(&self, key: &str, window_start: UnixTime) -> Result<u64, StoreError>;
    /// Forgets `key` (after a successful login, say).
    async fn reset(&self, key: &str) -> Result<(), StoreError>;
    /// Adds each delta to its key's counter in one round trip, and returns each key's count in
    /// the delta's window afterwards, in the order given (other nodes' events included). A
    /// counter of an older window restarts at the delta; one already in a newer window (a node
    /// whose clock is ahead moved it on) is left alone and reported as 0.
    async fn add(&self, deltas: &[CounterDelta]) -> Result<Vec<u64>, StoreError>;
    /// The count of `key` in the window that starts at `window_start`: 0 when the key is
    /// absent or its row is in another window. Writes nothing.
    async fn count(&self, key: &str, window_start: UnixTime) -> Result<u64, StoreError>;
    /// Passes the gate `key` when it is open at `now` (or was never closed), closing it until
    /// `close_until`: `None` when passed, `Some(open_at)` when closed until `open_at`. One
    /// conditional write: of callers racing for an open gate, from any node, one passes.
    async fn pass_gate(
        &self,
        key: &str,
        now: UnixTime,
        close_until: UnixTime,
    ) -> Result<Option<UnixTime>, StoreError>;
}

/// Events one node counted for one key since its last sync (`throttle::SharedCounters`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterDelta {
    /// The counter.
    pub key: String,
    /// The start of the fixed window the events fall in.
    pub window_start: UnixTime,
    /// How many events.
    pub count: u64,
}

/// Housekeeping.
#[async_trait]
pub trait MaintenanceStore: Send + Sync {
    /// Deletes what expired before `now` (codes, sessions, requests, revocations, counters,
    /// refresh tokens, wallet-ownership challenges). Returns how many rows went.
    async fn delete_expired(&self, now: UnixTime) -> Result<u64, StoreError>;
}

/// A linked wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletRecord {
    /// The wallet id.
    pub id: String,
    /// Its profile.
    pub profile_id: ProfileId,
    /// The chain.
    pub chain: crate::banking::wallet::Chain,
    /// The address, EIP-55 checksummed.
    pub address: String,
    /// When ownership was proven.
    pub created_at: UnixTime,
}

/// A wallet-ownership challenge (a Sign-In with Ethereum nonce) issued to one user for one
/// profile, chain and address; single use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletChallengeRecord {
    /// SHA-256 of the nonce.
    pub nonce_hash: SecretHash,
    /// The user it was issued to.
    pub user_id: UserId,
    /// The profile the wallet is to be linked to.
    pub profile_id: ProfileId,
    /// The chain chosen.
    pub chain: crate::banking::wallet::Chain,
    /// The address, EIP-55 checksummed.
    pub address: String,
    /// When it was issued (the message's `Issued At`).
    pub issued_at: UnixTime,
    /// When it expires (the message's `Expiration Time`).
    pub expires_at: UnixTime,
    /// When a proof used it, if one did.
    pub consumed_at: Option<UnixTime>,
}

/// An IBAN attached to a wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IbanRecord {
    /// The IBAN, electronic form.
    pub iban: String,
    /// Its profile.
    pub profile_id: ProfileId,
    /// The wallet it is attached to.
    pub wallet_id: String,
    /// Issue time.
    pub created_at: UnixTime,
}

/// A balance in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    /// Currency.
    pub currency: crate::banking::order::Currency,
    /// Minor units.
    pub amount: i64,
}

/// Profiles, wallets, IBANs, balances and orders.
#[async_trait]
pub trait BankStore: Send + Sync {
    /// Adds a profile.
    async fn insert_profile(
        &self,
        profile: &crate::banking::profile::Profile,
    ) -> Result<(), StoreError>;
    /// The profile with this id.
    async fn profile(
        &self,
        id: &ProfileId,
    ) -> Result<Option<crate::banking::profile::Profile>, StoreError>;
    /// A user's profiles, oldest first.
    async fn profiles_of(
        &self,
        user: &UserId,
    ) -> Result<Vec<crate::banking::profile::Profile>, StoreError>;
    /// Profiles whose owner's consent to `client` is bound to them (a partner's reach).
    async fn profiles_granted_to(
        &self,
        client: &ClientId,
    ) -> Result<Vec<crate::banking::profile::Profile>, StoreError>;
    /// Sets a profile's KYC state; `false` if it does not exist.
    async fn set_kyc(
        &self,
        id: &ProfileId,
        state: crate::banking::profile::KycState,
        now: UnixTime,
    ) -> Result<bool, StoreError>;
    /// Links a wallet; [`StoreError::Conflict`] if the address is linked already.
    async fn insert_wallet(&self, wallet: &WalletRecord) -> Result<(), StoreError>;
    /// Stores a wallet-ownership challenge and, in the same transaction, retires the profile's
    /// oldest open (unconsumed) challenges so that at most
    /// [`crate::banking::ownership::OPEN_CHALLENGES`] stay open: a user who asks again and
    /// again cannot grow the table, and the newest messages still verify.
    async fn insert_wallet_challenge(
        &self,
        challenge: &WalletChallengeRecord,
    ) -> Result<(), StoreError>;
    /// The challenge with this nonce hash, consumed or not.
    async fn wallet_challenge(
        &self,
        nonce_hash: &SecretHash,
    ) -> Result<Option<WalletChallengeRecord>, StoreError>;
    /// In one transaction: consumes the challenge (if it is unconsumed and unexpired at `now`)
    /// and links `wallet`. `false` (nothing written) when the challenge was used, expired or
    /// unknown; [`StoreError::Conflict`] (nothing written) when the address is linked already.
    async fn link_wallet_with_challenge(
        &self,
        nonce_hash: &SecretHash,
        now: UnixTime,
        wallet: &WalletRecord,
    ) -> Result<bool, StoreError>;
    /// A profile's wallets, oldest first.
    async fn wallets_of(&self, profile: &ProfileId) -> Result<Vec<WalletRecord>, StoreError>;
    /// Attaches an IBAN; [`StoreError::Conflict`] if the IBAN exists or the wallet has one.
    async fn insert_iban(&self, iban: &IbanRecord) -> Result<(), StoreError>;
    /// A profile's IBANs, oldest first.
    async fn ibans_of(&self, profile: &ProfileId) -> Result<Vec<IbanRecord>, StoreError>;
    /// A profile's balances (currencies it never held are absent).
    async fn balances_of(&self, profile: &ProfileId) -> Result<Vec<Balance>, StoreError>;
    /// One order of a profile.
    async fn order(
        &self,
        profile: &ProfileId,
        id: &str,
    ) -> Result<Option<crate::banking::order::Order>, StoreError>;
    /// The order a client placed for a profile with this idempotency key.
    async fn order_by_key(
        &self,
        client: &ClientId,
        profile: &ProfileId,
        key: &str,
    ) -> Result<Option<crate::banking::order::Order>, StoreError>;
    /// A profile's orders, by id.
    async fn orders_of(
        &self,
        profile: &ProfileId,
        page: &PageRequest,
    ) -> Result<Page<crate::banking::order::Order>, StoreError>;
    /// In one transaction: applies a processed order to its balance (credit for issue, debit
    /// for redeem) and stores it. `false` (nothing written) when a redeem exceeds the balance;
    /// [`StoreError::Conflict`] when its idempotency key is taken.
    async fn settle_order(&self, order: &crate::banking::order::Order) -> Result<bool, StoreError>;
    /// Stores an order without touching balances (a rejected one).
    async fn insert_order(&self, order: &crate::banking::order::Order) -> Result<(), StoreError>;
}

/// The audit trail.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends events, in order, in one transaction.
    async fn append_audit(&self, events: &[crate::audit::AuditEvent]) -> Result<(), StoreError>;
    /// Events matching `filter`, oldest first.
    async fn audit_events(
        &self,
        filter: &crate::audit::AuditFilter,
    ) -> Result<Vec<crate::audit::AuditEvent>, StoreError>;
}

/// Everything the server stores.
pub trait Store:
    HealthStore
    + KeyStore
    + ClientStore
    + UserStore
    + CodeStore
    + GrantStore
    + RefreshTokenStore
    + ConsentStore
    + SessionStore
    + AuthRequestStore
    + ReplayStore
    + PushedRequestStore
    + RevocationStore
    + RateLimitStore
    + MaintenanceStore
    + BankStore
    + AuditStore
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: HealthStore
        + KeyStore
        + ClientStore
        + UserStore
        + CodeStore
        + GrantStore
        + RefreshTokenStore
        + ConsentStore
        + SessionStore
        + AuthRequestStore
        + ReplayStore
        + PushedRequestStore
        + RevocationStore
        + RateLimitStore
        + MaintenanceStore
        + BankStore
        + AuditStore
        + std::fmt::Debug
{
}
