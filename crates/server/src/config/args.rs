//! Command-line options (each also a `PORTCULLIS_*` environment variable).

use std::path::PathBuf;

/// Options every command that touches the database takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonArgs {
    /// Let operators credit profiles (`portcullis sandbox fund`, `POST
    /// /admin/v1/users/{id}/fund`), standing in for incoming transfers; apps never can
    /// [default: on with --sandbox, off otherwise].
    #[arg(long, env = "PORTCULLIS_SANDBOX_FUNDING", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub sandbox_funding: Option<String>,
    /// TOML configuration file (see portcullis.example.toml). Flags and PORTCULLIS_* variables
    /// override it.
    #[arg(long, short = 'c', env = "PORTCULLIS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DB
    /// [default: sqlite://./portcullis-data/portcullis.db]
    #[arg(
        long,
        env = "PORTCULLIS_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// File holding the database URL (for URLs with passwords).
    #[arg(long, env = "PORTCULLIS_DATABASE_URL_FILE", value_name = "FILE")]
    pub database_url_file: Option<PathBuf>,
    /// Connection pool size (SQLite: read connections; writes use one) [default: 16].
    #[arg(long, env = "PORTCULLIS_DATABASE_MAX_CONNECTIONS", value_name = "N")]
    pub database_max_connections: Option<String>,
    /// How long a request waits for a database connection before answering 503 [default: 3s].
    #[arg(
        long,
        env = "PORTCULLIS_DATABASE_ACQUIRE_TIMEOUT",
        value_name = "DURATION"
    )]
    pub database_acquire_timeout: Option<String>,
    /// SQLite durability: `normal` survives a crash of the process, `full` also a power loss
    /// (an fsync per commit) [default: normal].
    #[arg(
        long,
        env = "PORTCULLIS_SQLITE_SYNCHRONOUS",
        value_name = "normal|full"
    )]
    pub sqlite_synchronous: Option<String>,
    /// Key-encryption key: 32 bytes, base64. Signing keys are stored encrypted under it.
    /// Required with PostgreSQL (every node needs the same one); with SQLite a key is generated
    /// beside the database file when none is given.
    #[arg(
        long,
        env = "PORTCULLIS_KEY_ENCRYPTION_KEY",
        value_name = "BASE64",
        hide_env_values = true
    )]
    pub key_encryption_key: Option<String>,
    /// File holding the key-encryption key.
    #[arg(long, env = "PORTCULLIS_KEY_ENCRYPTION_KEY_FILE", value_name = "FILE")]
    pub key_encryption_key_file: Option<PathBuf>,
    /// Algorithm of access tokens: ES256, EdDSA, PS256 or RS256 [default: ES256].
    #[arg(long, env = "PORTCULLIS_ACCESS_TOKEN_ALG", value_name = "ALG")]
    pub access_token_alg: Option<String>,
    /// Longest access-token lifetime a client may have; a superseded signing key stays
    /// published this long [default: 24h].
    #[arg(long, env = "PORTCULLIS_MAX_ACCESS_TOKEN_TTL", value_name = "DURATION")]
    pub max_access_token_ttl: Option<String>,
    /// Log format: `pretty` or `json` [default: pretty].
    #[arg(long, env = "PORTCULLIS_LOG_FORMAT", value_name = "pretty|json")]
    pub log_format: Option<String>,
    /// Log filter, in tracing's EnvFilter syntax [default: info].
    #[arg(long, env = "PORTCULLIS_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,
}

/// Options only the server takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "PORTCULLIS_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Issuer identifier: the public https URL of this server, as clients reach it
    /// [default: http:// and the listen address].
    #[arg(long, env = "PORTCULLIS_ISSUER", value_name = "URL")]
    pub issuer: Option<String>,
    /// Audience (`aud`) of access tokens: the identifier resource servers check
    /// [default: the issuer].
    #[arg(long, env = "PORTCULLIS_AUDIENCE", value_name = "URI")]
    pub audience: Option<String>,
    /// How long a node may use a cached client before re-reading it; changes made on another
    /// node take at most this long to apply [default: 5s].
    #[arg(long, env = "PORTCULLIS_CLIENT_CACHE_TTL", value_name = "DURATION")]
    pub client_cache_ttl: Option<String>,
    /// How long the request_uri of a pushed authorization request (RFC 9126) works, at most
    /// 10m [default: 60s].
    #[arg(
        long,
        env = "PORTCULLIS_PUSHED_REQUEST_LIFETIME",
        value_name = "DURATION"
    )]
    pub pushed_request_lifetime: Option<String>,
    /// Every client must push its authorization requests first (RFC 9126), as FAPI 2.0 asks
    /// [default: false].
    #[arg(long, env = "PORTCULLIS_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub require_pushed_authorization_requests: Option<String>,
    /// Serve the sandbox banking resource API (/api/v1) and require onboarding for banking
    /// scopes; turn off when resource servers of your own serve those [default: true].
    #[arg(long, env = "PORTCULLIS_BANKING", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub banking: Option<String>,
    /// KYC decisions: `auto` approves on submission (the sandbox), `manual` leaves them pending
    /// for `portcullis user set-kyc` or the admin API [default: auto].
    #[arg(long, env = "PORTCULLIS_KYC", value_name = "auto|manual")]
    pub kyc: Option<String>,
    /// Compatibility profiles to serve, comma-separated: monerium, monei, tropipay, moneybutton
    /// (the paths and response fields of those platforms' integration guides)
    /// [default: none; all with --sandbox].
    #[arg(long, env = "PORTCULLIS_COMPAT", value_name = "LIST")]
    pub compat: Option<String>,
    /// Seed a demo user and a demo app on first start, and print their credentials.
    #[arg(long, env = "PORTCULLIS_SANDBOX", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub sandbox: Option<String>,
    /// How long a rotated-in signing key is published before it signs [default: 10m].
    #[arg(long, env = "PORTCULLIS_KEY_ACTIVATION_DELAY", value_name = "DURATION")]
    pub key_activation_delay: Option<String>,
    /// How often each node re-reads signing keys, to follow rotations [default: 30s].
    #[arg(long, env = "PORTCULLIS_KEY_REFRESH_INTERVAL", value_name = "DURATION")]
    pub key_refresh_interval: Option<String>,
    /// How long a request may run before it is answered with 503 [default: 30s].
    #[arg(long, env = "PORTCULLIS_REQUEST_TIMEOUT", value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// How long shutdown waits for in-flight requests after SIGTERM [default: 30s].
    #[arg(long, env = "PORTCULLIS_SHUTDOWN_TIMEOUT", value_name = "DURATION")]
    pub shutdown_timeout: Option<String>,
    /// Requests served at once; past it, new requests are answered 503 with Retry-After at
    /// once instead of queueing [default: 1024].
    #[arg(long, env = "PORTCULLIS_MAX_CONCURRENT_REQUESTS", value_name = "N")]
    pub max_concurrent_requests: Option<String>,
    /// Proxies (IP addresses or CIDR ranges, comma-separated) whose forwarding header names the
    /// client; from any other peer the header is ignored [default: none].
    #[arg(long, env = "PORTCULLIS_TRUSTED_PROXIES", value_name = "LIST")]
    pub trusted_proxies: Option<String>,
    /// The header trusted proxies write: `x-forwarded-for` or `forwarded` (RFC 7239)
    /// [default: x-forwarded-for].
    #[arg(long, env = "PORTCULLIS_FORWARDED_HEADER", value_name = "HEADER")]
    pub forwarded_header: Option<String>,
    /// Login attempts per account from one client network (/24, /64) and window; a successful
    /// login clears them [default: 5].
    #[arg(
        long,
        env = "PORTCULLIS_LOGIN_ATTEMPTS_PER_ACCOUNT_NETWORK",
        value_name = "N"
    )]
    pub login_attempts_per_account_network: Option<String>,
    /// Window of login_attempts_per_account_network [default: 15m].
    #[arg(
        long,
        env = "PORTCULLIS_LOGIN_ATTEMPTS_PER_ACCOUNT_NETWORK_WINDOW",
        value_name = "DURATION"
    )]
    pub login_attempts_per_account_network_window: Option<String>,
    /// Failed logins per client network (/24, /64) and window, across accounts [default: 100].
    #[arg(long, env = "PORTCULLIS_LOGIN_FAILURES_PER_NETWORK", value_name = "N")]
    pub login_failures_per_network: Option<String>,
    /// Window of login_failures_per_network [default: 15m].
    #[arg(
        long,
        env = "PORTCULLIS_LOGIN_FAILURES_PER_NETWORK_WINDOW",
        value_name = "DURATION"
    )]
    pub login_failures_per_network_window: Option<String>,
    /// Failed logins per account and window, from every network, before the account slows
    /// down [default: 10].
    #[arg(long, env = "PORTCULLIS_LOGIN_FAILURES_PER_ACCOUNT", value_name = "N")]
    pub login_failures_per_account: Option<String>,
    /// Window of login_failures_per_account [default: 15m].
    #[arg(
        long,
        env = "PORTCULLIS_LOGIN_FAILURES_PER_ACCOUNT_WINDOW",
        value_name = "DURATION"
    )]
    pub login_failures_per_account_window: Option<String>,
    /// Login attempts per trusted browser (device cookie) and window [default: 5].
    #[arg(long, env = "PORTCULLIS_LOGIN_ATTEMPTS_PER_DEVICE", value_name = "N")]
    pub login_attempts_per_device: Option<String>,
    /// Window of login_attempts_per_device [default: 15m].
    #[arg(
        long,
        env = "PORTCULLIS_LOGIN_ATTEMPTS_PER_DEVICE_WINDOW",
        value_name = "DURATION"
    )]
    pub login_attempts_per_device_window: Option<String>,
    /// Sign-ups per client IP and window [default: 20].
    #[arg(long, env = "PORTCULLIS_SIGNUPS_PER_IP", value_name = "N")]
    pub signups_per_ip: Option<String>,
    /// Window of signups_per_ip [default: 1h].
    #[arg(
        long,
        env = "PORTCULLIS_SIGNUPS_PER_IP_WINDOW",
        value_name = "DURATION"
    )]
    pub signups_per_ip_window: Option<String>,
    /// Token requests per client and window, across nodes [default: 600000].
    #[arg(long, env = "PORTCULLIS_TOKEN_REQUESTS_PER_CLIENT", value_name = "N")]
    pub token_requests_per_client: Option<String>,
    /// Window of token_requests_per_client [default: 1m].
    #[arg(
        long,
        env = "PORTCULLIS_TOKEN_REQUESTS_PER_CLIENT_WINDOW",
        value_name = "DURATION"
    )]
    pub token_requests_per_client_window: Option<String>,
    /// Token requests per client IP and window, across nodes [default: 120000].
    #[arg(long, env = "PORTCULLIS_TOKEN_REQUESTS_PER_IP", value_name = "N")]
    pub token_requests_per_ip: Option<String>,
    /// Window of token_requests_per_ip [default: 1m].
    #[arg(
        long,
        env = "PORTCULLIS_TOKEN_REQUESTS_PER_IP_WINDOW",
        value_name = "DURATION"
    )]
    pub token_requests_per_ip_window: Option<String>,
    /// Failed client authentications (token, introspection, revocation) per client IP and
    /// window; past it the address is refused until the window ends [default: 300].
    #[arg(long, env = "PORTCULLIS_CLIENT_AUTH_FAILURES_PER_IP", value_name = "N")]
    pub client_auth_failures_per_ip: Option<String>,
    /// Window of client_auth_failures_per_ip [default: 5m].
    #[arg(
        long,
        env = "PORTCULLIS_CLIENT_AUTH_FAILURES_PER_IP_WINDOW",
        value_name = "DURATION"
    )]
    pub client_auth_failures_per_ip_window: Option<String>,
    /// How often each node adds its token-endpoint counts to the shared counters in the
    /// database; the limits hold across nodes to within one interval [default: 250ms].
    #[arg(
        long,
        env = "PORTCULLIS_RATE_LIMIT_SYNC_INTERVAL",
        value_name = "DURATION"
    )]
    pub rate_limit_sync_interval: Option<String>,
}
