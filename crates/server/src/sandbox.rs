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
use portcullis_core::store::{BankStore as _, ClientStore as _, UserStore as _};
use portcullis_proto::{ClientId, Secret};
use portcullis_store::SqlStore;

use crate::app::Runtime;
use crate::config::Config;

/// The demo user's email.
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The demo app's client id.
pub const DEMO_CLIENT_ID: &str = "demo-app";

/// The demo user's ready account: a verified profile with a wallet, an IBAN and money.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// The profile id.
    pub profile: String,
    /// The wallet address (its key is thrown away: the sandbox holds no wallet keys).
    pub wallet: String,
    /// The IBAN attached to the wallet.
    pub iban: String,
    /// The opening balance, formatted.
    pub balance: String,
}

/// The demo user's opening balance, in euro cents.
const OPENING_BALANCE: i64 = 100_000;

/// Gives the demo user everything the banking scopes need, so the printed authorization URL
/// goes straight from login to consent: a personal profile with KYC approved, a wallet proven
/// with a freshly generated key, an IBAN, and an opening balance credited by an `issue` order.
async fn seed_account(
    store: &SqlStore,
    runtime: &Runtime,
    issuer: &str,
    user: &portcullis_proto::UserId,
) -> anyhow::Result<DemoAccount> {
    use portcullis_core::banking::accounts::{self, BankingSettings};
    use portcullis_core::banking::order::Currency;
    use portcullis_core::banking::ownership::{self, OwnershipSite};
    use portcullis_core::banking::profile::ProfileKind;
    use portcullis_core::banking::wallet::{Chain, SigningKey, sign_personal};

    let (clock, random) = (runtime.clock.as_ref(), runtime.random.as_ref());
    let profile = accounts::create_profile(
        store,
        clock,
        random,
        user,
        ProfileKind::Personal,
        "Demo User",
    )
    .await?;
    accounts::submit_kyc(store, clock, BankingSettings::default(), &profile.id).await?;
    let key = loop {
        let mut bytes = [0u8; 32];
        random.fill(&mut bytes)?;
        // A random 256-bit value is a valid secp256k1 key but for a 2^-128 chance.
        if let Ok(key) = SigningKey::from_slice(&bytes) {
            break key;
        }
    };
    let address =
        portcullis_core::banking::wallet::Address::of_key(key.verifying_key()).checksummed();
    // The same proof a user gives on the wallet page: a challenge for this profile, signed.
    let site = OwnershipSite::for_issuer(issuer).context("the issuer has no host")?;
    let message = ownership::issue_challenge(
        store,
        clock,
        random,
        &site,
        &profile,
        Chain::Ethereum,
        &address,
    )
    .await?
    .to_string();
    let signature = sign_personal(&key, &message)?;
    let wallet =
        ownership::link_wallet(store, clock, random, &site, &profile, &message, &signature).await?;
    let iban = accounts::issue_iban(store, clock, random, &profile.id, &wallet.id).await?;
    let profile = store
        .profile(&profile.id)
        .await?
        .context("the demo profile vanished")?;
    // The opening balance is the sandbox's own incoming transfer, made whatever
    // `sandbox_funding` says about later credits.
    let opening = accounts::Credit {
        currency: Currency::Eur,
        amount: OPENING_BALANCE,
        from_iban: None,
        memo: Some("Sandbox opening balance".to_owned()),
    };
    let seeding = BankingSettings {
        funding: true,
        ..BankingSettings::default()
    };
    accounts::fund(
        store,
        clock,
        random,
        seeding,
        &profile,
        opening,
        "sandbox-opening-balance",
    )
    .await?;
    Ok(DemoAccount {
        profile: profile.id.to_string(),
        wallet: wallet.address,
        iban: iban.iban,
        balance: format!("{} EUR", Currency::Eur.format_amount(OPENING_BALANCE)),
    })
}

/// What the sandbox made (secrets only on the start that made them).
#[derive(Debug, Clone)]
pub struct SandboxReport {
    /// The demo user's account, when this start made it.
    pub account: Option<DemoAccount>,
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
    let mut demo_account = None;
    if store.user_by_email(DEMO_EMAIL).await?.is_none() {
        let password = Secret::new(&new_secret(random)?.expose()[..16]);
        let for_hash = password.clone();
        let random_owned = std::sync::Arc::clone(&runtime.random);
        let prepared = tokio::task::spawn_blocking(move || {
            users::prepare(random_owned.as_ref(), DEMO_EMAIL, "Demo User", &for_hash)
        })
        .await??;
        let user = users::create(store, clock, random, prepared).await?;
        demo_account = Some(seed_account(store, runtime, issuer, &user.id).await?);
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
        account: demo_account,
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
    /// Shows the banner where only the operator sees it. On a terminal it is printed. When
    /// standard output is captured (a supervisor, a container's log driver), a banner with
    /// secrets goes to `file` (mode 0600) instead and one log line says where: no credential
    /// ever reaches a log stream, JSON or not.
    ///
    /// # Errors
    /// The file cannot be written.
    #[allow(clippy::print_stdout)] // The banner is for the operator's terminal.
    pub fn announce(
        &self,
        issuer: &str,
        kek: Option<&(std::path::PathBuf, bool)>,
        file: &Path,
    ) -> anyhow::Result<()> {
        let banner = self.banner(issuer, kek);
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            print!("{banner}");
            return Ok(());
        }
        let path = display(file);
        if self.user_password.is_some() || self.client_secret.is_some() {
            write_private(file, &banner)
                .with_context(|| format!("cannot write the sandbox credentials to {path}"))?;
            tracing::info!(
                credentials = %path,
                user = %self.user_email,
                client_id = %self.client_id,
                "sandbox ready; the demo credentials are in the credentials file, not in the logs"
            );
        } else {
            tracing::info!(
                credentials = %path,
                user = %self.user_email,
                client_id = %self.client_id,
                "sandbox ready; the demo credentials were written to the credentials file on first start"
            );
        }
        Ok(())
    }

    /// The credentials (first start) or a reminder, and the authorization URL.
    pub fn banner(&self, issuer: &str, kek: Option<&(std::path::PathBuf, bool)>) -> String {
        use std::fmt::Write as _;
        let mut text = String::new();
        let rule = "-".repeat(78);
        _ = writeln!(text, "{rule}\nPortcullis sandbox at {issuer}\n");
        match (&self.user_password, &self.client_secret) {
            (Some(password), secret) => {
                _ = writeln!(
                    text,
                    "Demo user   {}  password {}",
                    self.user_email,
                    password.expose()
                );
                if let Some(account) = &self.account {
                    _ = writeln!(
                        text,
                        "            verified profile {}, wallet {}, IBAN {}, balance {}",
                        account.profile, account.wallet, account.iban, account.balance
                    );
                }
                if let Some(secret) = secret {
                    _ = writeln!(
                        text,
                        "Demo app    client_id {}  client_secret {}",
                        self.client_id,
                        secret.expose()
                    );
                }
                _ = writeln!(
                    text,
                    "            (shown once; only their hashes are stored)"
                );
            }
            (None, Some(secret)) => {
                _ = writeln!(
                    text,
                    "Demo app    client_id {}  client_secret {}",
                    self.client_id,
                    secret.expose()
                );
                _ = writeln!(text, "            (shown once; only its hash is stored)");
            }
            (None, None) => {
                _ = writeln!(
                    text,
                    "Demo user {} and demo app {} exist; their secrets were printed on first start.",
                    self.user_email, self.client_id
                );
            }
        }
        if let Some((path, created)) = kek {
            let verb = if *created { "generated" } else { "using" };
            _ = writeln!(
                text,
                "Key-encryption key {verb} at {} (back it up with the database)",
                display(path)
            );
        }
        _ = writeln!(
            text,
            "\nOpen this URL to sign in as the demo user and authorize the demo app:\n\n  {}\n",
            self.authorize_url
        );
        _ = writeln!(text, "Then exchange the code shown on the callback page:\n");
        _ = writeln!(
            text,
            "  curl -s {issuer}/oauth/token -u '{}:<client_secret>' \\\n    -d grant_type=authorization_code -d code=<code> \\\n    -d redirect_uri={} -d code_verifier={}\n{rule}",
            self.client_id, self.redirect_uri, self.code_verifier
        );
        text
    }
}

/// Where the banner goes when standard output is no terminal: beside the SQLite database, or in
/// the working directory.
#[must_use]
pub fn credentials_file(database_url: &str) -> std::path::PathBuf {
    crate::keyring::local_kek_path(database_url)
        .and_then(|kek| kek.parent().map(|dir| dir.join("sandbox-credentials.txt")))
        .unwrap_or_else(|| std::path::PathBuf::from("portcullis-sandbox-credentials.txt"))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
