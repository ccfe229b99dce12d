//! OAuth 2.0 and OpenID Connect endpoints.

pub mod authorize;
pub mod body;
pub mod discovery;
pub mod introspection;
pub mod par;
pub mod revocation;
pub mod token;
pub mod userinfo;
