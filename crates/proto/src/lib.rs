//! Wire types shared by the Portcullis authorization server and its SDK.
//!
//! Nothing here does I/O: these are the shapes that cross the network, named after the
//! specifications that define them (RFC 6749, RFC 7009, RFC 7662, RFC 8414, RFC 7517,
//! OpenID Connect Core and Discovery).

#![warn(missing_docs)]

pub mod admin;
pub mod claims;
pub mod discovery;
pub mod error;
pub mod ids;
pub mod jwks;
pub mod scope;
pub mod secret;
pub mod token;

pub use error::{ErrorCode, ErrorResponse, safe_description};
pub use ids::{ClientId, GrantId, KeyId, ProfileId, UserId};
pub use scope::{Scope, ScopeError, ScopeSet};
pub use secret::Secret;
