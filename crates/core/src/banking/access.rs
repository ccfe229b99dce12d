//! Which profiles a resource API token may see: the rule every `/api/v1` route applies before
//! it reads or moves anything.

use portcullis_proto::{ClientId, ProfileId};

use crate::banking::profile::Profile;
use crate::oauth::issue::AccessTokenClaims;
use crate::store::{Store, StoreError};

/// The profiles `token` may see:
/// - a user's token: the profile its grant is bound to, while that profile is still the
///   user's (none when the grant binds none);
/// - a client's own token (client credentials): for a partner client, every profile whose user
///   granted that client access; for any other client, none.
///
/// Another profile is invisible: the API answers 404 for it, so ids do not leak.
///
/// # Errors
/// Storage failures (the caller denies, never allows).
pub async fn visible_profiles(
    store: &dyn Store,
    token: &AccessTokenClaims,
) -> Result<Vec<Profile>, StoreError> {
    if token.is_client_token() {
        let client = store
            .client(&ClientId::new(token.client_id.clone()))
            .await?;
        return Ok(match client {
            Some(c) if c.partner && c.enabled => store.profiles_granted_to(&c.id).await?,
            _ => Vec::new(),
        });
    }
    let Some(profile) = &token.profile else {
        return Ok(Vec::new());
    };
    let profile = store.profile(&ProfileId::new(profile.clone())).await?;
    Ok(profile
        .filter(|p| p.user_id.as_str() == token.sub)
        .into_iter()
        .collect())
}
