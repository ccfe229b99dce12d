//! The resource API (`/api/v1`), typed.
//!
//! Every call takes its bearer token from a [`TokenSource`]: a [`crate::UserSession`] (the
//! user's tokens, refreshed as needed), a [`crate::ClientCredentials`] (the client's own), or
//! a fixed [`Secret`]. When the API answers 401, the source renews once and the call is
//! retried (for a user session: one refresh, shared with concurrent calls).

mod types;

use std::future::Future;

use portcullis_proto::Secret;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

pub use types::{
    AuthContext, Balance, ClientContext, IdempotencyKey, Kyc, Me, NewOrder, Order, OrderKind, Page,
    PageRequest, PlacedOrder, Profile, UserContext, Wallet, WalletMe,
};

use crate::error::Error;
use crate::http;

/// Something that supplies bearer tokens for the resource API.
///
/// ```
/// use portcullis_client::api::TokenSource;
/// use portcullis_client::{Error, Secret};
///
/// /// A token read from somewhere else.
/// struct FromVault(Secret);
///
/// impl TokenSource for FromVault {
///     async fn access_token(&self) -> Result<Secret, Error> {
///         Ok(self.0.clone())
///     }
/// }
/// ```
pub trait TokenSource: Send + Sync {
    /// A token to send now.
    fn access_token(&self) -> impl Future<Output = Result<Secret, Error>> + Send;

    /// The API refused `rejected` (401): a replacement to retry with, or `None` to give up.
    /// The default gives up.
    fn renew(
        &self,
        rejected: &Secret,
    ) -> impl Future<Output = Result<Option<Secret>, Error>> + Send {
        let _ = rejected;
        std::future::ready(Ok(None))
    }
}

impl TokenSource for Secret {
    async fn access_token(&self) -> Result<Secret, Error> {
        Ok(self.clone())
    }
}

impl<T: TokenSource> TokenSource for &T {
    fn access_token(&self) -> impl Future<Output = Result<Secret, Error>> + Send {
        (**self).access_token()
    }

    fn renew(
        &self,
        rejected: &Secret,
    ) -> impl Future<Output = Result<Option<Secret>, Error>> + Send {
        (**self).renew(rejected)
    }
}

/// The resource API of one server, for one token source. Made by [`crate::Client::api`].
#[derive(Debug, Clone)]
pub struct Api<S> {
    http: reqwest::Client,
    base: Url,
    tokens: S,
    dpop: Option<crate::dpop::DpopKey>,
}

impl<S: TokenSource> Api<S> {
    pub(crate) fn new(
        http: reqwest::Client,
        base: Url,
        tokens: S,
        dpop: Option<crate::dpop::DpopKey>,
    ) -> Self {
        Self {
            http,
            base,
            tokens,
            dpop,
        }
    }

    /// The token source.
    pub fn tokens(&self) -> &S {
        &self.tokens
    }

    /// `GET /me`: the user (scope `profile:read` or `auth.user_identity:read`).
    ///
    /// # Errors
    /// [`Error::Api`] (403 `insufficient_scope` when neither scope was granted), and the token
    /// source's errors.
    pub async fn me(&self) -> Result<Me, Error> {
        self.get(&["me"], &[]).await
    }

    /// `GET /auth/context`: whom the token speaks for, and the profiles it may act for (for a
    /// partner's client credentials token, the profiles that granted the client access).
    ///
    /// # Errors
    /// [`Error::Api`], and the token source's errors.
    pub async fn auth_context(&self) -> Result<AuthContext, Error> {
        self.get(&["auth", "context"], &[]).await
    }

    /// `GET /wallet/me`: the wallets, IBANs and balances of the token's profile (scope
    /// `wallet:read`).
    ///
    /// # Errors
    /// [`Error::Api`]: 404 when the token is bound to no profile, 403 without `wallet:read`.
    pub async fn wallet_me(&self) -> Result<WalletMe, Error> {
        self.get(&["wallet", "me"], &[]).await
    }

    /// `GET /balances` (scope `wallet:read` or `users.balance:read`).
    ///
    /// # Errors
    /// As [`Api::wallet_me`].
    pub async fn balances(&self) -> Result<Vec<Balance>, Error> {
        self.get(&["balances"], &[]).await
    }

    /// `GET /profiles`: the profiles the token may see, a page at a time.
    ///
    /// ```no_run
    /// # async fn run(api: portcullis_client::api::Api<portcullis_client::ClientCredentials>) -> Result<(), portcullis_client::Error> {
    /// use portcullis_client::api::PageRequest;
    ///
    /// let mut page = PageRequest::default();
    /// loop {
    ///     let profiles = api.profiles(&page).await?;
    ///     for profile in &profiles.items {
    ///         println!("{} {}", profile.id, profile.name);
    ///     }
    ///     match profiles.next_cursor {
    ///         Some(cursor) => page.cursor = Some(cursor),
    ///         None => break,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Api`], and the token source's errors.
    pub async fn profiles(&self, page: &PageRequest) -> Result<Page<Profile>, Error> {
        self.get(&["profiles"], &page.query()).await
    }

    /// `GET /profiles/{id}`.
    ///
    /// # Errors
    /// [`Error::Api`] (404 for a profile the token may not see).
    pub async fn profile(&self, id: &str) -> Result<Profile, Error> {
        self.get(&["profiles", id], &[]).await
    }

    /// `GET /orders` (scope `orders:read`).
    ///
    /// # Errors
    /// [`Error::Api`], and the token source's errors.
    pub async fn orders(&self, page: &PageRequest) -> Result<Page<Order>, Error> {
        self.get(&["orders"], &page.query()).await
    }

    /// `GET /orders/{id}` (scope `orders:read`).
    ///
    /// # Errors
    /// [`Error::Api`] (404 for an unknown order).
    pub async fn order(&self, id: &str) -> Result<Order, Error> {
        self.get(&["orders", id], &[]).await
    }

    /// `POST /orders` with `Idempotency-Key` (scope `orders:write`). Sending the same key and
    /// order again returns the first order ([`PlacedOrder::created`] is then `false`), so a
    /// request whose answer was lost can be retried safely; the same key with another order
    /// is refused (409).
    ///
    /// ```no_run
    /// # async fn run(api: portcullis_client::api::Api<portcullis_client::UserSession>) -> Result<(), portcullis_client::Error> {
    /// use portcullis_client::api::{IdempotencyKey, NewOrder};
    ///
    /// let key = IdempotencyKey::generate()?; // keep it with the order until it is confirmed
    /// let order = NewOrder {
    ///     counterpart_iban: Some("GB82WEST12345698765432".into()),
    ///     ..NewOrder::redeem("eur", 10_00)
    /// };
    /// let placed = api.place_order(&key, &order).await?;
    /// println!("order {} is {}", placed.order.id, placed.order.state);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Api`]: 400 for an invalid order, 409 for a key reused with another order.
    pub async fn place_order(
        &self,
        key: &IdempotencyKey,
        order: &NewOrder,
    ) -> Result<PlacedOrder, Error> {
        let url = self.url(&["orders"], &[])?;
        let (status, order) = self
            .call(Method::POST, &url, Some(order), Some(key.as_str()))
            .await?;
        Ok(PlacedOrder {
            order,
            created: status == StatusCode::CREATED,
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, Error> {
        let url = self.url(path, query)?;
        Ok(self.call::<T, ()>(Method::GET, &url, None, None).await?.1)
    }

    fn url(&self, path: &[&str], query: &[(&str, String)]) -> Result<Url, Error> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config(format!("API base {} cannot take a path", self.base)))?
            .pop_if_empty()
            .extend(path);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// Sends the request with a token; on 401 renews once and retries.
    async fn call<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        url: &Url,
        body: Option<&B>,
        idempotency_key: Option<&str>,
    ) -> Result<(StatusCode, T), Error> {
        let token = self.tokens.access_token().await?;
        let mut response = self
            .send(method.clone(), url, body, idempotency_key, &token)
            .await?;
        if response.status() == StatusCode::UNAUTHORIZED
            && let Some(renewed) = self.tokens.renew(&token).await?
            && renewed != token
        {
            response = self
                .send(method, url, body, idempotency_key, &renewed)
                .await?;
        }
        let status = response.status();
        let bytes = http::body(url.as_str(), response).await?;
        if !status.is_success() {
            return Err(Error::Api(http::api_error(url.as_str(), status, &bytes)));
        }
        Ok((status, http::json(url.as_str(), &bytes)?))
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        url: &Url,
        body: Option<&B>,
        idempotency_key: Option<&str>,
        token: &Secret,
    ) -> Result<reqwest::Response, Error> {
        let mut request = self.http.request(method.clone(), url.clone());
        request = match &self.dpop {
            // RFC 9449 §7: the DPoP scheme, and a proof for this request and token.
            Some(key) => request
                .header(
                    reqwest::header::AUTHORIZATION,
                    format!("DPoP {}", token.expose()),
                )
                .header(
                    crate::dpop::PROOF_HEADER,
                    key.proof(method.as_str(), url, Some(token.expose()))?,
                ),
            None => request.bearer_auth(token.expose()),
        };
        request = request.header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        http::send(url.as_str(), request).await
    }
}
