//! The resource API's bodies. Open-ended values (kinds, states, currencies) are strings, so a
//! server that adds one does not break older clients.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::pkce::random_token;

/// `GET /api/v1/me`: the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Me {
    /// The user id (the `sub` of the user's tokens).
    pub id: String,
    /// The email address.
    pub email: String,
    /// The display name.
    pub name: String,
}

/// `GET /api/v1/auth/context`: whom the token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthContext {
    /// A token a user authorized.
    User(UserContext),
    /// A client's own token (client credentials).
    Client(ClientContext),
}

impl AuthContext {
    /// The profiles the token may act for.
    #[must_use]
    pub fn profiles(&self) -> &[Profile] {
        match self {
            Self::User(c) => &c.profiles,
            Self::Client(c) => &c.profiles,
        }
    }
}

/// The context of a user's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserContext {
    /// The user.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// The user's email.
    #[serde(default)]
    pub email: Option<String>,
    /// The user's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The client the token was issued to.
    pub client_id: String,
    /// The token's scope.
    pub scope: String,
    /// The profile the grant is bound to.
    #[serde(rename = "defaultProfile", default)]
    pub default_profile: Option<String>,
    /// The profiles the token may act for.
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

/// The context of a client credentials token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientContext {
    /// The client.
    pub client_id: String,
    /// The token's scope.
    pub scope: String,
    /// For a partner client, the profiles that granted it access.
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

/// A profile: a personal or corporate account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Profile {
    /// The profile id.
    pub id: String,
    /// `personal` or `corporate`.
    pub kind: String,
    /// The profile's name.
    pub name: String,
    /// Its verification.
    pub kyc: Kyc,
    /// When it was created (RFC 3339).
    pub created_at: String,
}

/// Know-your-customer verification of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Kyc {
    /// `pending`, `approved`, `rejected`, …
    pub state: String,
}

/// `GET /api/v1/wallet/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WalletMe {
    /// The token's profile.
    pub profile: Profile,
    /// Its wallets.
    pub wallets: Vec<Wallet>,
    /// Its IBANs.
    pub ibans: Vec<String>,
    /// Its balances.
    pub balances: Vec<Balance>,
}

/// A linked wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Wallet {
    /// The wallet id.
    pub id: String,
    /// The chain (`ethereum`, …).
    pub chain: String,
    /// The address.
    pub address: String,
    /// The IBAN attached to it.
    #[serde(default)]
    pub iban: Option<String>,
    /// When it was linked (RFC 3339).
    pub linked_at: String,
}

/// A balance in integer minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Balance {
    /// The currency (`eur`, …).
    pub currency: String,
    /// The amount in minor units.
    pub amount: i64,
    /// Decimal places of the currency.
    pub decimals: u32,
    /// The amount as text (`12.34`).
    pub formatted: String,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Order {
    /// The order id.
    pub id: String,
    /// The profile it belongs to.
    pub profile: String,
    /// `issue` or `redeem`.
    pub kind: String,
    /// The currency.
    pub currency: String,
    /// The amount in minor units.
    pub amount: i64,
    /// The counterpart's IBAN.
    #[serde(default)]
    pub counterpart_iban: Option<String>,
    /// A memo.
    #[serde(default)]
    pub memo: Option<String>,
    /// `pending`, `completed`, `rejected`, …
    pub state: String,
    /// Why it was rejected (`insufficient_funds`, …).
    #[serde(default)]
    pub reason: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

/// What an order does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderKind {
    /// Money in.
    Issue,
    /// Money out.
    Redeem,
}

/// The body of `POST /api/v1/orders`.
///
/// ```
/// use portcullis_client::api::NewOrder;
///
/// let order = NewOrder {
///     memo: Some("invoice 42".into()),
///     ..NewOrder::redeem("eur", 25_00)
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    /// Issue or redeem.
    pub kind: OrderKind,
    /// `eur`, `usd`, `gbp` or `isk`.
    pub currency: String,
    /// The amount in minor units.
    pub amount: i64,
    /// The counterpart's IBAN.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub counterpart_iban: Option<String>,
    /// A memo.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub memo: Option<String>,
}

impl NewOrder {
    /// A redeem (money out) of `amount` minor units of `currency`; set `counterpart_iban` to
    /// the IBAN to pay out to. (Apps cannot place `issue` orders: money arrives by incoming
    /// transfer, and the server refuses them with 403.)
    #[must_use]
    pub fn redeem(currency: impl Into<String>, amount: i64) -> Self {
        Self {
            kind: OrderKind::Redeem,
            currency: currency.into(),
            amount,
            counterpart_iban: None,
            memo: None,
        }
    }
}

/// The answer to [`crate::api::Api::place_order`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlacedOrder {
    /// The order.
    pub order: Order,
    /// `true` when this request created it (201), `false` when an earlier request with the
    /// same idempotency key had (200).
    pub created: bool,
}

/// The `Idempotency-Key` of an order: the same key and body place one order, however often
/// they are sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A key of the app's own (for example its internal payment id).
    #[must_use]
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// A random key (128 bits).
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn generate() -> Result<Self, Error> {
        Ok(Self(random_token(16)?))
    }

    /// The key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `?limit=&cursor=` of list endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page (the server's default is 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageRequest {
    pub(crate) fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(limit) = self.limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = &self.cursor {
            query.push(("cursor", cursor.clone()));
        }
        query
    }
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_context_is_tagged_by_type() {
        let client: AuthContext = serde_json::from_value(serde_json::json!({
            "type": "client", "client_id": "p", "scope": "a", "profiles": []
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(client, AuthContext::Client(_)));
        let user: AuthContext = serde_json::from_value(serde_json::json!({
            "type": "user", "userId": "u", "email": "e", "name": "n", "client_id": "c",
            "scope": "a", "defaultProfile": null, "profiles": []
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(user, AuthContext::User(UserContext { ref user_id, .. }) if user_id == "u")
        );
    }

    #[test]
    fn new_order_serialises_as_the_server_expects() {
        let json = serde_json::to_value(NewOrder::redeem("eur", 5)).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"kind": "redeem", "currency": "eur", "amount": 5})
        );
    }
}
