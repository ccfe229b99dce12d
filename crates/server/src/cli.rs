//! The command line.

use clap::{Parser, Subcommand};

use crate::config::{CommonArgs, ServerArgs};

/// Portcullis: an OAuth 2.0 / OpenID Connect authorization server with a sandbox banking API,
/// for payment platforms that let third-party apps act for their users.
///
/// Every option is also a PORTCULLIS_* environment variable and a key of the TOML file given
/// with --config; flags win over variables, variables over the file.
#[derive(Debug, Parser)]
#[command(
    name = "portcullis",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the authorization server (creates and migrates the database on first start).
    Serve {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Listening, issuer, timeouts and sandbox.
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Apply database migrations and exit.
    Migrate {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Check the configuration and that the database and keys can be opened; print what is
    /// wrong and exit non-zero if anything is.
    CheckConfig {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Listening, issuer, timeouts and sandbox.
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Manage signing keys.
    Keys {
        /// The key operation.
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Register and manage clients (the apps of integrators).
    Client {
        /// The client operation.
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Manage user accounts.
    User {
        /// The user operation.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Sandbox operations (off outside the sandbox).
    Sandbox {
        /// The sandbox operation.
        #[command(subcommand)]
        command: SandboxCommand,
    },
    /// Read the audit trail, oldest first.
    Audit {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Only this kind of event (for example login_failed, refresh_reuse, client_created).
        #[arg(long)]
        kind: Option<String>,
        /// Only events about this client.
        #[arg(long)]
        client: Option<String>,
        /// Only events about this user (id).
        #[arg(long)]
        user: Option<String>,
        /// Only events at or after this time (RFC 3339 or seconds since the epoch).
        #[arg(long)]
        since: Option<String>,
        /// Only events before this time.
        #[arg(long)]
        until: Option<String>,
        /// Only events after this position (the `seq` of the last event seen).
        #[arg(long)]
        after: Option<i64>,
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Settings shared by `client create` and `client update`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClientSettingsArgs {
    /// Display name, shown on the consent page.
    #[arg(long)]
    pub name: Option<String>,
    /// Redirect URI (repeatable; https, or http on loopback). On update, replaces them all.
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
    /// Where the browser may be sent after logout (repeatable; RP-Initiated Logout, compared
    /// exactly). On update, replaces them all.
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Web origin of a browser-based app, scheme://host[:port] (repeatable): its scripts may
    /// call the token, revocation and userinfo endpoints (CORS). On update, replaces them all.
    #[arg(long = "web-origin", value_name = "ORIGIN")]
    pub web_origins: Vec<String>,
    /// Allowed scopes, space-delimited, e.g. "openid wallet:read" [default: "openid profile
    /// email"; "admin" with --admin; on update, unchanged].
    #[arg(long)]
    pub scope: Option<String>,
    /// Allowed grant (repeatable): authorization_code, refresh_token, client_credentials.
    #[arg(long = "grant-type", value_name = "GRANT")]
    pub grant_types: Vec<String>,
    /// Access-token lifetime [default: 1h].
    #[arg(long, value_name = "DURATION")]
    pub access_token_ttl: Option<String>,
    /// Refresh-token lifetime [default: 30d].
    #[arg(long, value_name = "DURATION")]
    pub refresh_token_ttl: Option<String>,
    /// PKCE policy: s256 (default), plain-allowed, optional.
    #[arg(long, value_name = "POLICY")]
    pub pkce: Option<String>,
    /// Acknowledge that a public client without PKCE lets anyone who intercepts a code redeem
    /// it (needed with --public --pkce optional; see docs/security.md).
    #[arg(long)]
    pub i_understand_public_client_without_pkce: bool,
    /// ID-token algorithm: RS256 (default), ES256, PS256, EdDSA.
    #[arg(long, value_name = "ALG")]
    pub id_token_alg: Option<String>,
    /// Logo URL shown on consent (https).
    #[arg(long, value_name = "URL")]
    pub logo_uri: Option<String>,
    /// Homepage URL shown on consent (https).
    #[arg(long, value_name = "URL")]
    pub homepage_uri: Option<String>,
    /// Require a DPoP proof (RFC 9449) at every token request, so every access token is bound
    /// to the client's key: true or false.
    #[arg(long, value_name = "BOOL")]
    pub dpop_bound_access_tokens: Option<bool>,
    /// Require authorization requests to be pushed first (RFC 9126, POST /oauth/par): true
    /// or false.
    #[arg(long, value_name = "BOOL")]
    pub require_pushed_authorization_requests: Option<bool>,
    /// A file holding the client's public keys as a JWK Set (`{"keys": [...]}`): the client
    /// authenticates with private_key_jwt (RFC 7523) and gets no secret.
    #[arg(long, value_name = "FILE")]
    pub jwks_file: Option<std::path::PathBuf>,
}

/// Client operations.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client. A confidential client's secret is printed once; only its hash is kept.
    Create {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// The settings.
        #[command(flatten)]
        settings: ClientSettingsArgs,
        /// Choose the client id (letters, digits, - . _ ~) instead of a generated one.
        #[arg(long)]
        id: Option<String>,
        /// A public client (no secret; PKCE protects its codes).
        #[arg(long)]
        public: bool,
        /// May use client credentials to read the profiles that granted it access.
        #[arg(long)]
        partner: bool,
        /// May call the admin API (client credentials with the `admin` scope).
        #[arg(long)]
        admin: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List clients.
    List {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one client.
    Show {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// The client id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a client's settings (only those given).
    Update {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// The client id.
        id: String,
        /// The settings to change.
        #[command(flatten)]
        settings: ClientSettingsArgs,
        /// Set the partner flag.
        #[arg(long)]
        partner: Option<bool>,
        /// Set the admin flag.
        #[arg(long)]
        admin: Option<bool>,
        /// Enable the client.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Disable the client: it can do nothing until enabled.
        #[arg(long)]
        disable: bool,
        /// Remove every post-logout redirect URI.
        #[arg(long, conflicts_with = "post_logout_redirect_uris")]
        clear_post_logout_redirect_uris: bool,
        /// Remove every web origin.
        #[arg(long, conflicts_with = "web_origins")]
        clear_web_origins: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a client and everything issued to it.
    Delete {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// The client id.
        id: String,
    },
    /// Replace a client's secret; the new one is printed once.
    RotateSecret {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// The client id.
        id: String,
        /// Keep the old secret working this long (for a deploy without downtime).
        #[arg(long, value_name = "DURATION")]
        grace: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Sandbox operations.
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Credit a profile as an incoming transfer would (apps cannot): only where sandbox funding
    /// is on (`--sandbox`, or `sandbox_funding`); recorded in the audit trail.
    Fund {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Profile id, or a user's id or email (their first profile).
        target: String,
        /// The amount in major units, e.g. 250.00.
        #[arg(long)]
        amount: String,
        /// eur, usd, gbp or isk.
        #[arg(long, default_value = "eur")]
        currency: String,
        /// Text on the transfer.
        #[arg(long)]
        memo: Option<String>,
        /// The sending account's IBAN.
        #[arg(long)]
        from_iban: Option<String>,
    },
}

/// User operations.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from standard input (one line), or generated and
    /// printed when --generate-password is given.
    Create {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Email (the login).
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Generate a password and print it once.
        #[arg(long)]
        generate_password: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List accounts.
    List {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one account (by id or email) with its profiles.
    Show {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// User id or email.
        user: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change an account's name, phone number or postal address: what the OpenID Connect
    /// `profile`, `phone` and `address` scopes release. Options left out keep their value.
    Update {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// User id or email.
        user: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Phone number in international form (+34 600 123 456); an empty value clears it.
        #[arg(long)]
        phone: Option<String>,
        /// Whether the platform confirmed the user holds the number.
        #[arg(long)]
        phone_verified: Option<bool>,
        /// Street and number (may hold line breaks).
        #[arg(long)]
        street: Option<String>,
        /// City or locality.
        #[arg(long)]
        locality: Option<String>,
        /// State, province or region.
        #[arg(long)]
        region: Option<String>,
        /// Postal code.
        #[arg(long)]
        postal_code: Option<String>,
        /// Country.
        #[arg(long)]
        country: Option<String>,
        /// Remove the postal address.
        #[arg(long, conflicts_with_all = ["street", "locality", "region", "postal_code", "country"])]
        clear_address: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: it cannot log in, its sessions end and every grant it gave is revoked.
    Disable {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// User id or email.
        user: String,
    },
    /// Revoke one app's access to an account: its consent, unredeemed codes and grants end.
    RevokeApp {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// User id or email.
        user: String,
        /// The app's client id.
        client_id: String,
    },
    /// Set the KYC state of a profile (or of a user's first profile).
    SetKyc {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Profile id, or a user's id or email.
        target: String,
        /// absent, pending, approved or rejected.
        #[arg(long)]
        state: String,
    },
}

/// Signing-key operations.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add new signing keys: published at once, signing after the activation delay. The keys
    /// they replace stay published until the tokens they signed have expired. Every node picks
    /// the change up without restart.
    Rotate {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Algorithm to rotate (repeatable) [default: every algorithm that has a key].
        #[arg(long = "alg", value_name = "ALG")]
        algs: Vec<String>,
        /// Delay before the new keys sign; `0s` after a key compromise
        /// [default: key_activation_delay, 10m].
        #[arg(long, value_name = "DURATION")]
        activate_after: Option<String>,
        /// Print the new keys as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List signing keys with their states (pending, active, retiring).
    List {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a new random key-encryption key (32 bytes, base64) for key_encryption_key.
    GenerateKek,
}
