//! The client credentials grant (RFC 6749 §4.4): a token about the client itself.

use super::requested_scope;
use crate::client::{Client, ClientKind, GrantType};
use crate::oauth::issue::{Issued, Subject, access_token};
use crate::oauth::{Context, TokenError};

/// Issues an access token for the client's own use, bound to the DPoP key `jkt` if given. Without `scope`, the token carries every
/// scope the client may have; a scope outside that is `invalid_scope`. No refresh token: the
/// client can always ask again (RFC 6749 §4.4.3).
///
/// # Errors
/// [`TokenError::GrantNotAllowed`] for a public client, [`TokenError::ScopeNotAllowed`], or a
/// signing failure.
pub fn issue(
    ctx: &Context<'_>,
    client: &Client,
    scope: Option<&str>,
    jkt: Option<&str>,
) -> Result<Issued, TokenError> {
    // RFC 6749 §4.4: confidential clients only. A public client "authenticates" with its id
    // alone, so a record that allows it this grant (registration refuses that, a direct edit
    // may not) must not turn an unauthenticated request into a token.
    if client.kind != ClientKind::Confidential {
        return Err(TokenError::GrantNotAllowed(GrantType::ClientCredentials));
    }
    let scope = requested_scope(scope, &client.scopes, TokenError::ScopeNotAllowed)?
        .unwrap_or_else(|| client.scopes.clone());
    let (token, expires_in) = access_token(ctx, client, &Subject::Client, &scope, jkt)?;
    Ok(Issued {
        access_token: token,
        expires_in,
        refresh_token: None,
        scope,
        id_token: None,
        user: None,
        profile: None,
        client_id: client.id.clone(),
        jkt: jkt.map(str::to_owned),
    })
}
