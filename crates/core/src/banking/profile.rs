//! Profiles: the accounts a user acts through (personal or corporate), each with a KYC state.

use std::fmt;
use std::str::FromStr;

use portcullis_proto::{ProfileId, UserId};
use serde::Serialize;

use crate::time::UnixTime;

/// Personal or corporate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileKind {
    /// An individual.
    Personal,
    /// A company.
    Corporate,
}

/// Know-your-customer state: `absent → pending → approved | rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KycState {
    /// Nothing submitted.
    Absent,
    /// Submitted, not decided.
    Pending,
    /// Verified: the profile may hold money.
    Approved,
    /// Refused.
    Rejected,
}

macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// The stored and wire name.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),* }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Self::$variant),)*
                    other => Err(UnknownName(other.to_owned())),
                }
            }
        }
    };
}

pub(crate) use names;

/// A name that is not one of the type's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownName(pub String);

names!(ProfileKind { Personal => "personal", Corporate => "corporate" });
names!(KycState { Absent => "absent", Pending => "pending", Approved => "approved", Rejected => "rejected" });

/// A profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The profile id (the `profile` claim of tokens bound to it).
    pub id: ProfileId,
    /// Its owner.
    pub user_id: UserId,
    /// Personal or corporate.
    pub kind: ProfileKind,
    /// Display name (the person's or the company's).
    pub name: String,
    /// KYC state.
    pub kyc: KycState,
    /// Creation.
    pub created_at: UnixTime,
    /// Last change.
    pub updated_at: UnixTime,
}
