//! A partner back-end: with its own token (client credentials, cached and renewed by
//! `portcullis-client`), it lists the profiles whose owners granted it access.

use portcullis_client::api::{AuthContext, PageRequest, Profile};
use portcullis_client::{Client, Error};

/// The partner's view: who it is, and the profiles that granted it access.
#[derive(Debug, Clone)]
pub struct Granted {
    /// The partner's client id, as the server sees it.
    pub client_id: String,
    /// The profiles, every page of them.
    pub profiles: Vec<Profile>,
}

/// Discovers the server and returns a client for the partner.
///
/// # Errors
/// When discovery fails.
pub async fn client(issuer: &str, client_id: &str, client_secret: &str) -> Result<Client, Error> {
    Client::builder(issuer)
        .client_id(client_id)
        .client_secret(client_secret)
        .build()
        .await
}

/// Reads `/api/v1/auth/context` and pages through `/api/v1/profiles` with one client
/// credentials token for `scope` (`None`: every scope the partner may have).
///
/// # Errors
/// The token request's and the API's errors.
pub async fn granted_profiles(client: &Client, scope: Option<&str>) -> Result<Granted, Error> {
    let api = client.api(client.client_credentials(scope));
    let client_id = match api.auth_context().await? {
        AuthContext::Client(context) => context.client_id,
        AuthContext::User(context) => context.client_id,
        _ => client.client_id().to_owned(),
    };
    let mut profiles = Vec::new();
    let mut page = PageRequest {
        limit: Some(50),
        cursor: None,
    };
    loop {
        let next = api.profiles(&page).await?;
        profiles.extend(next.items);
        match next.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    Ok(Granted {
        client_id,
        profiles,
    })
}
