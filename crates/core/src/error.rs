//! What kind of failure an error is, whatever use case raised it, so that the front ends
//! (HTTP, the CLI) map kinds to answers in one place instead of matching every enum.

use crate::admin::clients::ClientRuleError;
use crate::admin::users::{NewUserError, UserOpError};
use crate::banking::accounts::BankError;
use crate::store::StoreError;

/// The kind of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input breaks a rule; the message says which (HTTP 400).
    Invalid,
    /// What the request names does not exist, or is not the caller's to see (404).
    NotFound,
    /// The request contradicts the current state: a taken id, a repeated submission (409).
    Conflict,
    /// Not allowed for this caller, whatever the input (403).
    Forbidden,
    /// A dependency is down; retrying later may work (503).
    Unavailable,
    /// A bug or broken data; the message is logged, not shown (500).
    Internal,
}

/// An error that knows its [`ErrorKind`].
pub trait Kind: std::error::Error {
    /// The kind.
    fn kind(&self) -> ErrorKind;
}

impl Kind for StoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Conflict(_) | Self::Corrupt(_) | Self::Other(_) => ErrorKind::Internal,
        }
    }
}

impl Kind for ClientRuleError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Exists(_) | Self::SelfLockout => ErrorKind::Conflict,
            Self::Store(store) => store.kind(),
            Self::Random(_) => ErrorKind::Internal,
            _ => ErrorKind::Invalid,
        }
    }
}

impl Kind for NewUserError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::EmailTaken => ErrorKind::Conflict,
            Self::Store(store) => store.kind(),
            Self::Random(_) => ErrorKind::Internal,
            Self::Hashing => ErrorKind::Unavailable,
            _ => ErrorKind::Invalid,
        }
    }
}

impl Kind for UserOpError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) | Self::ProfileNotFound(_) => ErrorKind::NotFound,
            Self::Bank(bank) => bank.kind(),
            Self::Contact(_) | Self::Name => ErrorKind::Invalid,
            Self::Store(store) => store.kind(),
        }
    }
}

impl Kind for BankError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Name | Self::Kyc(_) | Self::Wallet(_) | Self::Proof(_) | Self::Order(_) => {
                ErrorKind::Invalid
            }
            Self::UnknownWallet => ErrorKind::NotFound,
            Self::KycSubmitted
            | Self::AddressTaken
            | Self::HasIban
            | Self::NotApproved
            | Self::IdempotencyConflict => ErrorKind::Conflict,
            Self::MoneyInByApp | Self::FundingOff => ErrorKind::Forbidden,
            Self::Store(store) => store.kind(),
            Self::Random(_) => ErrorKind::Internal,
        }
    }
}
