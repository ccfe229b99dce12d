//! Keys, clients, users, codes, grants, refresh tokens, consents, sessions and spent
//! authorization requests, as `crates/store/src/{keys,clients,users,codes,grants,consents,
//! sessions}.rs` keep them.

use async_trait::async_trait;
use portcullis_proto::{ClientId, GrantId, KeyId, UserId};

use super::{MemoryStore, Tables, conflict, count, missing_parent, page_of};
use crate::client::{Client, WebOrigin};
use crate::hash::SecretHash;
use crate::keys::StoredKey;
use crate::store::{
    AuthRequestStore, ClientStore, CodeRecord, CodeStore, ConsentRecord, ConsentStore, Ended,
    Ending, GrantRecord, GrantStore, KeyStore, Page, PageRequest, PushedRequestRecord,
    PushedRequestStore, RefreshTokenRecord, RefreshTokenStore, ReplayStore, SessionRecord,
    SessionStore, StoreError, UserStore,
};
use crate::time::UnixTime;
use crate::user::User;

impl Tables {
    /// The foreign keys of a row naming a user and a client.
    fn check_parties(
        &self,
        user: &UserId,
        client: &ClientId,
        table: &str,
    ) -> Result<(), StoreError> {
        if !self.users.contains_key(user.as_str()) {
            return Err(missing_parent(&format!("{table}.user_id")));
        }
        if !self.clients.contains_key(client.as_str()) {
            return Err(missing_parent(&format!("{table}.client_id")));
        }
        Ok(())
    }

    /// `INSERT INTO grants`: its key, its user and client.
    fn check_new_grant(&self, grant: &GrantRecord) -> Result<(), StoreError> {
        if self.grants.contains_key(grant.id.as_str()) {
            return Err(conflict("grants.id"));
        }
        self.check_parties(&grant.user_id, &grant.client_id, "grants")
    }

    /// `INSERT INTO refresh_tokens`: its key and its grant.
    fn check_new_refresh(&self, token: &RefreshTokenRecord) -> Result<(), StoreError> {
        if self.refresh_tokens.contains_key(&token.hash) {
            return Err(conflict("refresh_tokens.token_hash"));
        }
        if !self.grants.contains_key(token.grant_id.as_str()) {
            return Err(missing_parent("refresh_tokens.grant_id"));
        }
        Ok(())
    }

    /// `UPDATE grants SET revoked_at = now WHERE user_id = user AND revoked_at IS NULL AND
    /// (client_id = client)`: how many changed.
    fn revoke_grants(&mut self, user: &UserId, client: Option<&ClientId>, now: UnixTime) -> u64 {
        let mut revoked = 0;
        for grant in self.grants.values_mut() {
            if grant.user_id == *user
                && grant.revoked_at.is_none()
                && client.is_none_or(|c| grant.client_id == *c)
            {
                grant.revoked_at = Some(now);
                revoked += 1;
            }
        }
        revoked
    }

    /// The redemption's condition (`crates/store/src/codes.rs` `CONSUME`): unredeemed,
    /// unexpired at `now`, its user enabled and still consenting to its client.
    fn redeemable(&self, code: &CodeRecord, now: UnixTime) -> bool {
        let user_enabled = self
            .users
            .get(code.user_id.as_str())
            .is_some_and(|u| !u.disabled);
        let consent = (code.user_id.to_string(), code.client_id.to_string());
        code.redeemed_at.is_none()
            && code.expires_at > now
            && user_enabled
            && self.consents.contains_key(&consent)
    }
}

#[async_trait]
impl KeyStore for MemoryStore {
    async fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        let mut t = self.lock();
        if t.keys.contains_key(key.kid.as_str()) {
            return Err(conflict("signing_keys.kid"));
        }
        t.keys.insert(key.kid.to_string(), key.clone());
        Ok(())
    }

    async fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let mut keys: Vec<StoredKey> = self.lock().keys.values().cloned().collect();
        keys.sort_by(|a, b| {
            (a.activates_at, a.kid.as_str()).cmp(&(b.activates_at, b.kid.as_str()))
        });
        Ok(keys)
    }

    async fn delete_keys(&self, kids: &[KeyId]) -> Result<u64, StoreError> {
        let mut t = self.lock();
        Ok(count(
            kids.iter()
                .filter(|kid| t.keys.remove(kid.as_str()).is_some())
                .count(),
        ))
    }
}

#[async_trait]
impl ClientStore for MemoryStore {
    async fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        let mut t = self.lock();
        if t.clients.contains_key(client.id.as_str()) {
            return Err(conflict("clients.id"));
        }
        t.clients.insert(client.id.to_string(), client.clone());
        Ok(())
    }

    async fn client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        Ok(self.lock().clients.get(id.as_str()).cloned())
    }

    async fn update_client(&self, client: &Client) -> Result<bool, StoreError> {
        let mut t = self.lock();
        let Some(stored) = t.clients.get_mut(client.id.as_str()) else {
            return Ok(false);
        };
        // As the SQL `UPDATE`: every column but `created_at`.
        *stored = Client {
            created_at: stored.created_at,
            ..client.clone()
        };
        Ok(true)
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        let mut t = self.lock();
        if t.clients.remove(id.as_str()).is_none() {
            return Ok(false);
        }
        // `ON DELETE CASCADE` of codes, pushed requests, consents and grants, and of the grants' refresh tokens.
        t.codes.retain(|_, c| c.client_id != *id);
        t.pushed.retain(|_, p| p.client_id != *id);
        t.consents.retain(|_, c| c.client_id != *id);
        t.grants.retain(|_, g| g.client_id != *id);
        let Tables {
            grants,
            refresh_tokens,
            ..
        } = &mut *t;
        refresh_tokens.retain(|_, r| grants.contains_key(r.grant_id.as_str()));
        Ok(true)
    }

    async fn list_clients(&self, page: &PageRequest) -> Result<Page<Client>, StoreError> {
        Ok(page_of(self.lock().clients.values(), page, |c| {
            c.id.to_string()
        }))
    }

    async fn origin_registered(&self, origin: &str) -> Result<bool, StoreError> {
        // The SQL store finds the quoted origin in the JSON array, and refuses what a quoted
        // string could not hold unescaped.
        if origin.contains(['"', '\\']) {
            return Ok(false);
        }
        Ok(self
            .lock()
            .clients
            .values()
            .any(|c| c.enabled && c.web_origins.iter().any(|o| WebOrigin::as_str(o) == origin)))
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let mut t = self.lock();
        if t.users.contains_key(user.id.as_str()) {
            return Err(conflict("users.id"));
        }
        if t.users.values().any(|u| u.email == user.email) {
            return Err(conflict("users.email"));
        }
        t.users.insert(user.id.to_string(), user.clone());
        Ok(())
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(id.as_str()).cloned())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .lock()
            .users
            .values()
            .find(|u| u.email == email)
            .cloned())
    }

    async fn update_user(&self, user: &User) -> Result<bool, StoreError> {
        let mut t = self.lock();
        if !t.users.contains_key(user.id.as_str()) {
            return Ok(false);
        }
        if t.users
            .values()
            .any(|u| u.email == user.email && u.id != user.id)
        {
            return Err(conflict("users.email"));
        }
        let Some(stored) = t.users.get_mut(user.id.as_str()) else {
            return Ok(false);
        };
        // As the SQL `UPDATE`: every column but `created_at`.
        *stored = User {
            created_at: stored.created_at,
            ..user.clone()
        };
        Ok(true)
    }

    async fn list_users(&self, page: &PageRequest) -> Result<Page<User>, StoreError> {
        Ok(page_of(self.lock().users.values(), page, |u| {
            u.id.to_string()
        }))
    }
}

#[async_trait]
impl CodeStore for MemoryStore {
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
        let mut t = self.lock();
        if t.codes.contains_key(&code.hash) {
            return Err(conflict("authorization_codes.code_hash"));
        }
        t.check_parties(&code.user_id, &code.client_id, "authorization_codes")?;
        t.codes.insert(code.hash.clone(), code.clone());
        Ok(())
    }

    async fn code(&self, hash: &SecretHash) -> Result<Option<CodeRecord>, StoreError> {
        Ok(self.lock().codes.get(hash).cloned())
    }

    async fn redeem_code(
        &self,
        hash: &SecretHash,
        now: UnixTime,
        grant: &GrantRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<bool, StoreError> {
        // One guard from the condition to the last write: of racing redemptions one wins.
        let mut t = self.lock();
        let Some(code) = t.codes.get(hash) else {
            return Ok(false);
        };
        if !t.redeemable(code, now) {
            return Ok(false);
        }
        // Every check before the first write, so a refused row leaves the code unredeemed.
        t.check_new_grant(grant)?;
        if let Some(refresh) = refresh {
            if t.refresh_tokens.contains_key(&refresh.hash) {
                return Err(conflict("refresh_tokens.token_hash"));
            }
            if refresh.grant_id != grant.id && !t.grants.contains_key(refresh.grant_id.as_str()) {
                return Err(missing_parent("refresh_tokens.grant_id"));
            }
        }
        if let Some(code) = t.codes.get_mut(hash) {
            code.redeemed_at = Some(now);
            code.grant_id = Some(grant.id.clone());
        }
        t.grants.insert(grant.id.to_string(), grant.clone());
        if let Some(refresh) = refresh {
            t.refresh_tokens
                .insert(refresh.hash.clone(), refresh.clone());
        }
        Ok(true)
    }
}

#[async_trait]
impl GrantStore for MemoryStore {
    async fn grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, StoreError> {
        Ok(self.lock().grants.get(id.as_str()).cloned())
    }

    async fn revoke_grant(&self, id: &GrantId, now: UnixTime) -> Result<bool, StoreError> {
        let mut t = self.lock();
        match t.grants.get_mut(id.as_str()) {
            Some(grant) if grant.revoked_at.is_none() => {
                grant.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_grants_of(
        &self,
        user: &UserId,
        client: Option<&ClientId>,
        now: UnixTime,
    ) -> Result<u64, StoreError> {
        Ok(self.lock().revoke_grants(user, client, now))
    }

    async fn end_access(&self, ending: &Ending, now: UnixTime) -> Result<Ended, StoreError> {
        let mut t = self.lock();
        let mut ended = Ended::default();
        let (user, client) = match ending {
            Ending::App { user, client } => {
                let key = (user.to_string(), client.to_string());
                ended.consents = count(usize::from(t.consents.remove(&key).is_some()));
                (user, Some(client))
            }
            Ending::User(user) => {
                if let Some(stored) = t.users.get_mut(user.as_str()) {
                    stored.disabled = true;
                    stored.updated_at = now;
                }
                let before = t.sessions.len();
                t.sessions.retain(|_, s| s.user_id.as_ref() != Some(user));
                ended.sessions = count(before - t.sessions.len());
                (user, None)
            }
        };
        let before = t.codes.len();
        t.codes.retain(|_, c| {
            !(c.user_id == *user
                && c.redeemed_at.is_none()
                && client.is_none_or(|client| c.client_id == *client))
        });
        ended.codes = count(before - t.codes.len());
        ended.grants = t.revoke_grants(user, client, now);
        Ok(ended)
    }
}

#[async_trait]
impl RefreshTokenStore for MemoryStore {
    async fn refresh_token(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        Ok(self.lock().refresh_tokens.get(hash).cloned())
    }

    async fn rotate_refresh_token(
        &self,
        old: &SecretHash,
        now: UnixTime,
        new: &RefreshTokenRecord,
    ) -> Result<bool, StoreError> {
        // One guard from the condition to the write: at most one successor per token.
        let mut t = self.lock();
        let Some(token) = t.refresh_tokens.get(old) else {
            return Ok(false);
        };
        let grant_live = t
            .grants
            .get(token.grant_id.as_str())
            .is_some_and(|g| g.revoked_at.is_none());
        if token.rotated_at.is_some() || token.expires_at <= now || !grant_live {
            return Ok(false);
        }
        t.check_new_refresh(new)?;
        if let Some(token) = t.refresh_tokens.get_mut(old) {
            token.rotated_at = Some(now);
        }
        t.refresh_tokens.insert(new.hash.clone(), new.clone());
        Ok(true)
    }
}

#[async_trait]
impl ConsentStore for MemoryStore {
    async fn consent(
        &self,
        user: &UserId,
        client: &ClientId,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        let key = (user.to_string(), client.to_string());
        Ok(self.lock().consents.get(&key).cloned())
    }

    async fn put_consent(&self, consent: &ConsentRecord) -> Result<(), StoreError> {
        let mut t = self.lock();
        t.check_parties(&consent.user_id, &consent.client_id, "consents")?;
        let key = (consent.user_id.to_string(), consent.client_id.to_string());
        // `ON CONFLICT DO UPDATE` of scope, profile and `updated_at`: the first approval's
        // `created_at` stays.
        let created_at = t
            .consents
            .get(&key)
            .map_or(consent.created_at, |c| c.created_at);
        t.consents.insert(
            key,
            ConsentRecord {
                created_at,
                ..consent.clone()
            },
        );
        Ok(())
    }

    async fn delete_consent(&self, user: &UserId, client: &ClientId) -> Result<bool, StoreError> {
        let key = (user.to_string(), client.to_string());
        Ok(self.lock().consents.remove(&key).is_some())
    }

    async fn consents_of(&self, user: &UserId) -> Result<Vec<ConsentRecord>, StoreError> {
        let mut consents: Vec<ConsentRecord> = self
            .lock()
            .consents
            .values()
            .filter(|c| c.user_id == *user)
            .cloned()
            .collect();
        consents.sort_by(|a, b| {
            (a.created_at, a.client_id.as_str()).cmp(&(b.created_at, b.client_id.as_str()))
        });
        Ok(consents)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut t = self.lock();
        if t.sessions.contains_key(&session.id_hash) {
            return Err(conflict("sessions.id_hash"));
        }
        if let Some(user) = &session.user_id
            && !t.users.contains_key(user.as_str())
        {
            return Err(missing_parent("sessions.user_id"));
        }
        t.sessions.insert(session.id_hash.clone(), session.clone());
        Ok(())
    }

    async fn session(&self, id_hash: &SecretHash) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.lock().sessions.get(id_hash).cloned())
    }

    async fn delete_session(&self, id_hash: &SecretHash) -> Result<(), StoreError> {
        self.lock().sessions.remove(id_hash);
        Ok(())
    }

    async fn delete_sessions_of(&self, user: &UserId) -> Result<u64, StoreError> {
        let mut t = self.lock();
        let before = t.sessions.len();
        t.sessions.retain(|_, s| s.user_id.as_ref() != Some(user));
        Ok(count(before - t.sessions.len()))
    }
}

#[async_trait]
impl AuthRequestStore for MemoryStore {
    async fn spend_auth_request(&self, id: &str, expires_at: UnixTime) -> Result<bool, StoreError> {
        // `ON CONFLICT DO NOTHING`: the first caller records it, later ones change nothing.
        let mut t = self.lock();
        if t.spent_requests.contains_key(id) {
            return Ok(false);
        }
        t.spent_requests.insert(id.to_owned(), expires_at);
        Ok(true)
    }

    async fn auth_request_spent(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().spent_requests.contains_key(id))
    }
}

#[async_trait]
impl ReplayStore for MemoryStore {
    async fn spend_once(
        &self,
        id: &str,
        _now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut t = self.lock();
        if t.spent_once.contains_key(id) {
            return Ok(false);
        }
        t.spent_once.insert(id.to_owned(), expires_at);
        Ok(true)
    }
}

#[async_trait]
impl PushedRequestStore for MemoryStore {
    async fn insert_pushed_request(&self, request: &PushedRequestRecord) -> Result<(), StoreError> {
        let mut t = self.lock();
        if t.pushed.contains_key(&request.id_hash) {
            return Err(conflict("pushed_requests.id_hash"));
        }
        if !t.clients.contains_key(request.client_id.as_str()) {
            return Err(missing_parent("pushed_requests.client_id"));
        }
        t.pushed.insert(request.id_hash.clone(), request.clone());
        Ok(())
    }

    async fn take_pushed_request(
        &self,
        id_hash: &SecretHash,
        now: UnixTime,
    ) -> Result<Option<PushedRequestRecord>, StoreError> {
        let mut t = self.lock();
        if t.pushed.get(id_hash).is_some_and(|r| r.expires_at > now) {
            Ok(t.pushed.remove(id_hash))
        } else {
            Ok(None)
        }
    }
}
