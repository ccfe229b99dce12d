//! The sandbox: a demo user and a demo app, seeded on first start so that a newcomer can click
//! through a whole authorization flow within a minute of cloning.

#![allow(clippy::print_stdout)] // Printing the credentials is this module's job.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context as _;
use portcullis_core::admin::clients::{self, NewClient};
use portcullis_core::admin::users;
use portcullis_core::client::GrantType;
use portcullis_core::pkce::s256_challenge;
use portcullis_core::random::new_secret;
use portcullis_core::store::{ClientStore as _, UserStore as _};
use portcullis_proto::{ClientId, Secret};
use portcullis_store::SqlStore;

use crate::app::Runtime;
use crate::config::Config;

/// The demo user's email.
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The demo app's client id.
pub const DEMO_CLIENT_ID: &str = "demo-app";

/// What the sandbox made (secrets only on the start that made them).
#[derive(Debug, Clone)]
pub struct SandboxReport {
    /// Whether this start seeded the sandbox.
    pub seeded_now: bool,
    /// The demo user's email.
    pub user_email: String,
    /// The demo user's password, on first start only.
    pub user_password: Option<Secret>,
    /// The demo app's id.
    pub client_id: String,
    /// The demo app's secret, on first start only.
    pub client_secret: Option<Secret>,
    /// The redirect URI of the printed flow.
    pub redirect_uri: String,
    /// A PKCE verifier for the printed authorization URL.
    pub code_verifier: String,
    /// A ready-to-open authorization URL.
    pub authorize_url: String,
}

/// Seeds the demo user and app if they do not exist yet.
///
/// # Errors
/// When storage fails.
pub async fn seed(
    store: &SqlStore,
    runtime: &Runtime,
    issuer: &str,
    config: &Config,
) -> anyhow::Result<SandboxReport> {
    let random = runtime.random.as_ref();
    let clock = runtime.clock.as_ref();
    let redirect_uri = format!("{issuer}/sandbox/callback");
    let mut user_password = None;
    if store.user_by_email(DEMO_EMAIL).await?.is_none() {
        let password = Secret::new(&new_secret(random)?.expose()[..16]);
        let for_hash = password.clone();
        let random_owned = std::sync::Arc::clone(&runtime.random);
        let prepared = tokio::task::spawn_blocking(move || {
            users::prepare(random_owned.as_ref(), DEMO_EMAIL, "Demo User", &for_hash)
        })
        .await??;
        users::create(store, clock, random, prepared).await?;
        user_password = Some(password);
    }
    let mut client_secret = None;
    if store
        .client(&ClientId::new(DEMO_CLIENT_ID))
        .await?
        .is_none()
    {
        let new = NewClient {
            id: Some(DEMO_CLIENT_ID.to_owned()),
            redirect_uris: vec![
                redirect_uri.clone(),
                "http://localhost:3000/monei/callback".to_owned(),
                "http://127.0.0.1/callback".to_owned(),
            ],
            grant_types: BTreeSet::from(GrantType::ALL),
            scopes: config.scopes.user_grantable(),
            partner: true,
            ..NewClient::confidential("Sandbox Demo App")
        };
        let max_ttl = i64::try_from(config.max_access_token_ttl.as_secs()).unwrap_or(i64::MAX);
        let (_, secret) = clients::create(store, clock, random, new, max_ttl)
            .await
            .context("cannot create the sandbox demo app")?;
        client_secret = secret;
    }
    let code_verifier = new_secret(random)?.expose().to_owned();
    let state = new_secret(random)?.expose()[..16].to_owned();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", DEMO_CLIENT_ID)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", "openid profile:read wallet:read")
        .append_pair("state", &state)
        .append_pair("code_challenge", &s256_challenge(&code_verifier))
        .append_pair("code_challenge_method", "S256")
        .finish();
    Ok(SandboxReport {
        seeded_now: user_password.is_some() || client_secret.is_some(),
        user_email: DEMO_EMAIL.to_owned(),
        user_password,
        client_id: DEMO_CLIENT_ID.to_owned(),
        client_secret,
        redirect_uri,
        code_verifier,
        authorize_url: format!("{issuer}/oauth/authorize?{query}"),
    })
}

impl SandboxReport {
    /// Prints the credentials (first start) or a reminder, and the authorization URL.
    pub fn print(&self, issuer: &str, kek: Option<&(std::path::PathBuf, bool)>) {
        let rule = "-".repeat(78);
        println!("{rule}\nPortcullis sandbox at {issuer}\n");
        match (&self.user_password, &self.client_secret) {
            (Some(password), secret) => {
                println!(
                    "Demo user   {}  password {}",
                    self.user_email,
                    password.expose()
                );
                if let Some(secret) = secret {
                    println!(
                        "Demo app    client_id {}  client_secret {}",
                        self.client_id,
                        secret.expose()
                    );
                }
                println!("            (shown once; only their hashes are stored)");
            }
            (None, Some(secret)) => {
                println!(
                    "Demo app    client_id {}  client_secret {}",
                    self.client_id,
                    secret.expose()
                );
                println!("            (shown once; only its hash is stored)");
            }
            (None, None) => println!(
                "Demo user {} and demo app {} exist; their secrets were printed on first start.",
                self.user_email, self.client_id
            ),
        }
        if let Some((path, created)) = kek {
            let verb = if *created { "generated" } else { "using" };
            println!(
                "Key-encryption key {verb} at {} (back it up with the database)",
                display(path)
            );
        }
        println!(
            "\nOpen this URL to sign in as the demo user and authorize the demo app:\n\n  {}\n",
            self.authorize_url
        );
        println!("Then exchange the code shown on the callback page:\n");
        println!(
            "  curl -s {issuer}/oauth/token -u '{}:<client_secret>' \\\n    -d grant_type=authorization_code -d code=<code> \\\n    -d redirect_uri={} -d code_verifier={}\n{rule}",
            self.client_id, self.redirect_uri, self.code_verifier
        );
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
