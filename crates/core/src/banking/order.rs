//! Orders: `issue` (money in: a sandbox incoming transfer credits the profile) and `redeem`
//! (money out to an IBAN: debits it). Placed with an idempotency key; processed in the same
//! transaction that changes the balance, so a balance always equals the sum of its processed
//! orders.

use std::fmt;
use std::str::FromStr;

use portcullis_proto::{ClientId, ProfileId};
use serde::Serialize;

use super::profile::{UnknownName, names};
use crate::hash::sha256;
use crate::time::UnixTime;

/// Money in or money out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderKind {
    /// An incoming transfer credits the profile.
    Issue,
    /// A payout to an IBAN debits it.
    Redeem,
}

/// `placed → pending → processed | rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderState {
    /// Accepted, not yet checked.
    Placed,
    /// Checked, waiting for settlement.
    Pending,
    /// Settled: the balance changed.
    Processed,
    /// Refused (for example, insufficient funds); the balance did not change.
    Rejected,
}

/// The currencies the sandbox holds (Monerium's e-money currencies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Currency {
    /// Euro.
    Eur,
    /// US dollar.
    Usd,
    /// Pound sterling.
    Gbp,
    /// Icelandic króna.
    Isk,
}

names!(OrderKind { Issue => "issue", Redeem => "redeem" });
names!(OrderState { Placed => "placed", Pending => "pending", Processed => "processed", Rejected => "rejected" });
names!(Currency { Eur => "eur", Usd => "usd", Gbp => "gbp", Isk => "isk" });

impl Currency {
    /// Digits after the decimal point (ISO 4217 minor unit).
    #[must_use]
    pub const fn decimals(self) -> u32 {
        match self {
            Self::Isk => 0,
            Self::Eur | Self::Usd | Self::Gbp => 2,
        }
    }

    /// `amount` minor units written with the currency's decimals (`1234` euro cents → `12.34`).
    #[must_use]
    pub fn format_amount(self, amount: i64) -> String {
        let decimals = self.decimals();
        if decimals == 0 {
            return amount.to_string();
        }
        let unit = 10_u64.pow(decimals);
        let sign = if amount < 0 { "-" } else { "" };
        let magnitude = amount.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            magnitude / unit,
            magnitude % unit,
            width = usize::try_from(decimals).unwrap_or(2)
        )
    }

    /// Reads an amount written in major units with at most the currency's decimals (`12.34`
    /// euro → `1234` cents, `12` → `1200`); `None` for anything else, a sign included.
    #[must_use]
    pub fn parse_amount(self, text: &str) -> Option<i64> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let decimals = usize::try_from(self.decimals()).ok()?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (text.contains('.') && !digits(fraction)) || fraction.len() > decimals
        {
            return None;
        }
        let padded = format!("{whole}{fraction:0<decimals$}");
        padded.parse().ok()
    }
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The order id.
    pub id: String,
    /// The profile it moves money for.
    pub profile_id: ProfileId,
    /// The client that placed it.
    pub client_id: ClientId,
    /// Issue or redeem.
    pub kind: OrderKind,
    /// Currency.
    pub currency: Currency,
    /// Amount in minor units (cents), positive.
    pub amount: i64,
    /// Payout IBAN (redeem) or the sending account (issue).
    pub counterpart_iban: Option<String>,
    /// Free text shown on the transfer.
    pub memo: Option<String>,
    /// State.
    pub state: OrderState,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The client's idempotency key.
    pub idempotency_key: String,
    /// SHA-256 of the request that placed it: the same key with another body is refused.
    pub request_hash: [u8; 32],
    /// Placement.
    pub created_at: UnixTime,
    /// Last state change.
    pub updated_at: UnixTime,
}

/// What a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Issue or redeem.
    pub kind: OrderKind,
    /// Currency.
    pub currency: Currency,
    /// Amount in minor units.
    pub amount: i64,
    /// Payout IBAN (required for redeem), or sending IBAN (issue, optional).
    pub counterpart_iban: Option<String>,
    /// Free text.
    pub memo: Option<String>,
}

impl NewOrder {
    /// A digest of the request's meaning, to recognise a retry with the same idempotency key.
    #[must_use]
    pub fn fingerprint(&self) -> [u8; 32] {
        let canonical = format!(
            "{}|{}|{}|{}|{}",
            self.kind,
            self.currency,
            self.amount,
            self.counterpart_iban.as_deref().unwrap_or_default(),
            self.memo.as_deref().unwrap_or_default()
        );
        sha256(canonical.as_bytes())
    }
}

/// The largest amount one order may move (a sandbox sanity bound: 10 million units).
pub const MAX_AMOUNT: i64 = 1_000_000_000;
/// The longest memo.
pub const MAX_MEMO_LEN: usize = 140;
/// The longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// Rules an order must meet before it is placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderRuleError {
    /// Zero, negative or too large.
    #[error("amount must be a whole number of minor units between 1 and {MAX_AMOUNT}")]
    Amount,
    /// A redeem needs an IBAN to pay out to.
    #[error("a redeem order needs counterpart_iban, the IBAN to pay out to")]
    MissingIban,
    /// Not a valid IBAN.
    #[error(transparent)]
    Iban(#[from] super::iban::InvalidIban),
    /// Memo too long.
    #[error("memo may be at most {MAX_MEMO_LEN} characters")]
    Memo,
    /// Idempotency key missing or too long.
    #[error("the Idempotency-Key header is required (1 to {MAX_IDEMPOTENCY_KEY_LEN} characters)")]
    IdempotencyKey,
}

/// Checks `new` and normalises its IBAN.
///
/// # Errors
/// See [`OrderRuleError`].
pub fn check(mut new: NewOrder, key: &str) -> Result<NewOrder, OrderRuleError> {
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(OrderRuleError::IdempotencyKey);
    }
    if !(1..=MAX_AMOUNT).contains(&new.amount) {
        return Err(OrderRuleError::Amount);
    }
    if new
        .memo
        .as_ref()
        .is_some_and(|m| m.chars().count() > MAX_MEMO_LEN)
    {
        return Err(OrderRuleError::Memo);
    }
    new.counterpart_iban = new
        .counterpart_iban
        .filter(|i| !i.trim().is_empty())
        .map(|i| super::iban::normalize(&i))
        .transpose()?;
    if new.kind == OrderKind::Redeem && new.counterpart_iban.is_none() {
        return Err(OrderRuleError::MissingIban);
    }
    Ok(new)
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} ({})",
            self.kind, self.amount, self.currency, self.state
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_in_major_units_with_the_currencys_decimals() {
        assert_eq!(Currency::Eur.parse_amount("12.34"), Some(1234));
        assert_eq!(Currency::Eur.parse_amount("12.3"), Some(1230));
        assert_eq!(Currency::Eur.parse_amount("12"), Some(1200));
        assert_eq!(Currency::Isk.parse_amount("500"), Some(500));
        for bad in [
            "", ".", "12.", ".5", "12.345", "-1", "+1", "1e3", "1,5", " 1", "12.3.4",
        ] {
            assert_eq!(Currency::Eur.parse_amount(bad), None, "{bad:?}");
        }
        assert_eq!(Currency::Isk.parse_amount("5.0"), None);
        assert_eq!(Currency::Eur.parse_amount("99999999999999999999"), None);
        for amount in [1, 99, 100, 123_456] {
            let text = Currency::Gbp.format_amount(amount);
            assert_eq!(Currency::Gbp.parse_amount(&text), Some(amount), "{text}");
        }
    }

    fn order(kind: OrderKind, amount: i64, iban: Option<&str>) -> NewOrder {
        NewOrder {
            kind,
            currency: Currency::Eur,
            amount,
            counterpart_iban: iban.map(str::to_owned),
            memo: None,
        }
    }

    #[test]
    fn order_rules() {
        assert_eq!(
            check(order(OrderKind::Issue, 0, None), "k"),
            Err(OrderRuleError::Amount)
        );
        assert_eq!(
            check(order(OrderKind::Issue, -5, None), "k"),
            Err(OrderRuleError::Amount)
        );
        assert_eq!(
            check(order(OrderKind::Redeem, 5, None), "k"),
            Err(OrderRuleError::MissingIban)
        );
        assert!(matches!(
            check(order(OrderKind::Redeem, 5, Some("GB00XX")), "k"),
            Err(OrderRuleError::Iban(_))
        ));
        assert_eq!(
            check(order(OrderKind::Issue, 5, None), ""),
            Err(OrderRuleError::IdempotencyKey)
        );
        let ok = check(
            order(OrderKind::Redeem, 5, Some("gb82 west 1234 5698 7654 32")),
            "k",
        )
        .unwrap();
        assert_eq!(
            ok.counterpart_iban.as_deref(),
            Some("GB82WEST12345698765432")
        );
    }

    #[test]
    fn amounts_are_written_with_the_currencys_decimals() {
        assert_eq!(Currency::Eur.format_amount(1234), "12.34");
        assert_eq!(Currency::Eur.format_amount(5), "0.05");
        assert_eq!(Currency::Usd.format_amount(-250), "-2.50");
        assert_eq!(Currency::Isk.format_amount(1234), "1234");
    }

    #[test]
    fn fingerprints_tell_bodies_apart() {
        let a = order(OrderKind::Issue, 5, None);
        let mut b = a.clone();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.amount = 6;
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
