//! The protocol endpoints: authorization, tokens, ID tokens, introspection, revocation, userinfo, discovery, logout and CORS.

mod authorize_errors;
mod authorize_prompt;
mod client_credentials;
mod code_flow;
mod code_redemption;
mod codes;
mod consent;
mod cors;
mod discovery;
mod dpop;
mod id_token;
mod introspection;
mod key_rotation;
mod logout;
mod par;
mod pkce;
mod private_key_jwt;
mod refresh;
mod revocation;
mod revocation_kept_codes;
mod standard_claims;
mod userinfo;
