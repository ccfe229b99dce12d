//! Configuration: flags > `PORTCULLIS_*` environment variables > TOML file > defaults, read and
//! validated once at start-up. Every problem is reported as one line that names the setting and
//! where its value came from.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use portcullis_core::keys::{KeyEncryptionKey, SigningAlg};
use portcullis_core::scopes::{DEFAULT_SCOPES, ScopeRegistry};
use portcullis_proto::Secret;
use portcullis_store::{Dialect, StoreOptions};
use serde::Deserialize;

use crate::duration;

/// The database used when none is configured.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./portcullis-data/portcullis.db";
/// The address used when none is configured.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Options every command that touches the database takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonArgs {
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
    /// Serve the sandbox banking resource API (/api/v1) and require onboarding for banking
    /// scopes; turn off when resource servers of your own serve those [default: true].
    #[arg(long, env = "PORTCULLIS_BANKING", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub banking: Option<String>,
    /// KYC decisions: `auto` approves on submission (the sandbox), `manual` leaves them pending
    /// for `portcullis user set-kyc` or the admin API [default: auto].
    #[arg(long, env = "PORTCULLIS_KYC", value_name = "auto|manual")]
    pub kyc: Option<String>,
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
}

/// A TOML value that may be a number or text (`shutdown_timeout = 30` or `"30s"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Integer(i64),
    Bool(bool),
    Text(String),
}

impl Scalar {
    fn into_text(self) -> String {
        match self {
            Self::Integer(n) => n.to_string(),
            Self::Bool(b) => b.to_string(),
            Self::Text(s) => s,
        }
    }
}

/// The TOML file. Unknown keys are an error: a misspelt setting must not be silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
    client_cache_ttl: Option<Scalar>,
    banking: Option<Scalar>,
    kyc: Option<String>,
    sandbox: Option<Scalar>,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    database_max_connections: Option<Scalar>,
    database_acquire_timeout: Option<Scalar>,
    sqlite_synchronous: Option<String>,
    key_encryption_key: Option<String>,
    key_encryption_key_file: Option<PathBuf>,
    access_token_alg: Option<String>,
    max_access_token_ttl: Option<Scalar>,
    key_activation_delay: Option<Scalar>,
    key_refresh_interval: Option<Scalar>,
    request_timeout: Option<Scalar>,
    shutdown_timeout: Option<Scalar>,
    log_format: Option<String>,
    log_level: Option<String>,
    /// Extra scopes (or new descriptions for the default ones): `"name" = "description"`.
    scopes: Option<std::collections::BTreeMap<String, String>>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, one line per event.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The issuer, if configured; otherwise derived from the bound address.
    pub issuer: Option<String>,
    /// The access-token audience, if configured; otherwise the issuer.
    pub audience: Option<String>,
    /// Client cache lifetime.
    pub client_cache_ttl: Duration,
    /// Serve the banking resource API and onboarding.
    pub banking: bool,
    /// Approve KYC on submission.
    pub kyc_auto_approve: bool,
    /// Seed and announce the sandbox.
    pub sandbox: bool,
    /// The database.
    pub database: StoreOptions,
    /// The key-encryption key (base64), if configured.
    pub key_encryption_key: Option<Secret>,
    /// Access token algorithm.
    pub access_token_alg: SigningAlg,
    /// Longest access-token lifetime.
    pub max_access_token_ttl: Duration,
    /// Publication delay of rotated-in keys.
    pub key_activation_delay: Duration,
    /// Key re-read interval.
    pub key_refresh_interval: Duration,
    /// Per-request time limit.
    pub request_timeout: Duration,
    /// Drain time at shutdown.
    pub shutdown_timeout: Duration,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log_level: String,
    /// The scopes that exist, with the descriptions the consent page shows.
    pub scopes: ScopeRegistry,
}

/// A configuration problem, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Where a value came from, for messages.
#[derive(Debug, Clone)]
enum Origin {
    Cli {
        field: &'static str,
        env: &'static str,
    },
    File {
        key: &'static str,
        path: PathBuf,
    },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cli { field, env } => write!(f, "from --{} or {env}", field.replace('_', "-")),
            Self::File { key, path } => write!(f, "from `{key}` in {}", path.display()),
        }
    }
}

/// The three layers, and the lookup that takes the highest one holding a value.
struct Layers<'a> {
    common: &'a CommonArgs,
    server: Option<&'a ServerArgs>,
    file: FileConfig,
    path: PathBuf,
}

macro_rules! pick {
    ($layers:expr, $args:ident, $field:ident, $env:literal) => {{
        let cli = $layers.$args().and_then(|a| a.$field.clone());
        let flag = stringify!($field);
        match cli {
            Some(v) => Some((
                v,
                Origin::Cli {
                    field: flag,
                    env: $env,
                },
            )),
            None => $layers.file.$field.clone().map(|v| {
                (
                    v.into(),
                    Origin::File {
                        key: flag,
                        path: $layers.path.clone(),
                    },
                )
            }),
        }
    }};
}

impl From<Scalar> for String {
    fn from(value: Scalar) -> Self {
        value.into_text()
    }
}

impl Layers<'_> {
    fn common(&self) -> Option<&CommonArgs> {
        Some(self.common)
    }

    fn server(&self) -> Option<&ServerArgs> {
        self.server
    }
}

fn invalid(origin: &Origin, what: &str, detail: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("invalid {what} ({origin}): {detail}"))
}

fn parse_duration(
    value: Option<(String, Origin)>,
    what: &str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some((text, origin)) => duration::parse(&text).ok_or_else(|| {
            invalid(
                &origin,
                what,
                format!("{text:?} is not a duration like 30s, 5m, 1h or 7d"),
            )
        }),
    }
}

fn parse_bool(
    value: Option<(String, Origin)>,
    what: &str,
    default: bool,
) -> Result<bool, ConfigError> {
    match value {
        None => Ok(default),
        Some((text, origin)) => match text.as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(invalid(
                &origin,
                what,
                format!("{text:?} is not true or false"),
            )),
        },
    }
}

fn read_secret_file(path: &Path, origin: &Origin, what: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| invalid(origin, what, format!("cannot read {}: {e}", path.display())))
}

/// A secret given directly or through a `*_file` setting, at the highest layer that has either.
fn secret_value(
    direct: Option<(String, Origin)>,
    file: Option<(PathBuf, Origin)>,
    what: &str,
) -> Result<Option<(String, Origin)>, ConfigError> {
    let rank = |o: &Origin| matches!(o, Origin::Cli { .. });
    match (direct, file) {
        (Some((_, a)), Some((_, b))) if rank(&a) == rank(&b) => Err(ConfigError(format!(
            "both {what} ({a}) and its _file variant ({b}) are set; give one"
        ))),
        (Some(d), Some((path, origin))) => {
            if rank(&d.1) {
                Ok(Some(d))
            } else {
                Ok(Some((read_secret_file(&path, &origin, what)?, origin)))
            }
        }
        (Some(d), None) => Ok(Some(d)),
        (None, Some((path, origin))) => Ok(Some((read_secret_file(&path, &origin, what)?, origin))),
        (None, None) => Ok(None),
    }
}

impl Config {
    /// Reads the file (if any), applies the layers and validates every value.
    ///
    /// # Errors
    /// The first problem found, as one line.
    pub fn load(common: &CommonArgs, server: Option<&ServerArgs>) -> Result<Self, ConfigError> {
        let (file, path) = match &common.config {
            Some(path) => (read_file(path)?, path.clone()),
            None => (FileConfig::default(), PathBuf::from("(no config file)")),
        };
        let layers = Layers {
            common,
            server,
            file,
            path,
        };
        Self::resolve(&layers)
    }

    fn resolve(l: &Layers<'_>) -> Result<Self, ConfigError> {
        let listen = match pick!(l, server, listen, "PORTCULLIS_LISTEN") {
            None => DEFAULT_LISTEN
                .parse()
                .map_err(|_| ConfigError("bad default listen".into()))?,
            Some((text, origin)) => text.parse().map_err(|_| {
                invalid(
                    &origin,
                    "listen address",
                    format!("{text:?} is not an IP:port address"),
                )
            })?,
        };
        let issuer = pick!(l, server, issuer, "PORTCULLIS_ISSUER")
            .map(|(text, origin)| validate_issuer(&text).map_err(|e| invalid(&origin, "issuer", e)))
            .transpose()?;
        let audience = pick!(l, server, audience, "PORTCULLIS_AUDIENCE")
            .map(|(text, origin)| {
                url::Url::parse(&text).map(|_| text.clone()).map_err(|e| {
                    invalid(&origin, "audience", format!("{text:?} is not a URI ({e})"))
                })
            })
            .transpose()?;
        let client_cache_ttl = parse_duration(
            pick!(l, server, client_cache_ttl, "PORTCULLIS_CLIENT_CACHE_TTL"),
            "client_cache_ttl",
            Duration::from_secs(5),
        )?;
        let sandbox = parse_bool(
            pick!(l, server, sandbox, "PORTCULLIS_SANDBOX"),
            "sandbox",
            false,
        )?;
        let banking = parse_bool(
            pick!(l, server, banking, "PORTCULLIS_BANKING"),
            "banking",
            true,
        )?;
        let kyc_auto_approve = match pick!(l, server, kyc, "PORTCULLIS_KYC") {
            None => true,
            Some((text, origin)) => match text.as_str() {
                "auto" => true,
                "manual" => false,
                _ => {
                    return Err(invalid(
                        &origin,
                        "kyc",
                        format!("{text:?} is not auto or manual"),
                    ));
                }
            },
        };
        let database_url = secret_value(
            pick!(l, common, database_url, "PORTCULLIS_DATABASE_URL"),
            pick!(l, common, database_url_file, "PORTCULLIS_DATABASE_URL_FILE"),
            "database_url",
        )?;
        let url = match database_url {
            None => DEFAULT_DATABASE_URL.to_owned(),
            Some((url, origin)) => {
                validate_database_url(&url).map_err(|e| invalid(&origin, "database URL", e))?;
                url
            }
        };
        let max_connections = match pick!(
            l,
            common,
            database_max_connections,
            "PORTCULLIS_DATABASE_MAX_CONNECTIONS"
        ) {
            None => 16,
            Some((text, origin)) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    invalid(
                        &origin,
                        "database_max_connections",
                        format!("{text:?} is not a number from 1 to 1000"),
                    )
                })?,
        };
        let sqlite_synchronous_full = match pick!(
            l,
            common,
            sqlite_synchronous,
            "PORTCULLIS_SQLITE_SYNCHRONOUS"
        ) {
            None => false,
            Some((text, origin)) => match text.to_ascii_lowercase().as_str() {
                "normal" => false,
                "full" => true,
                _ => {
                    return Err(invalid(
                        &origin,
                        "sqlite_synchronous",
                        format!("{text:?} is not normal or full"),
                    ));
                }
            },
        };
        let database = StoreOptions {
            url,
            max_connections,
            acquire_timeout: parse_duration(
                pick!(
                    l,
                    common,
                    database_acquire_timeout,
                    "PORTCULLIS_DATABASE_ACQUIRE_TIMEOUT"
                ),
                "database_acquire_timeout",
                Duration::from_secs(3),
            )?,
            sqlite_synchronous_full,
        };
        let key_encryption_key = secret_value(
            pick!(
                l,
                common,
                key_encryption_key,
                "PORTCULLIS_KEY_ENCRYPTION_KEY"
            ),
            pick!(
                l,
                common,
                key_encryption_key_file,
                "PORTCULLIS_KEY_ENCRYPTION_KEY_FILE"
            ),
            "key_encryption_key",
        )?
        .map(|(text, origin)| {
            KeyEncryptionKey::from_base64(&text)
                .map(|_| Secret::new(text))
                .map_err(|e| invalid(&origin, "key_encryption_key", e))
        })
        .transpose()?;
        if key_encryption_key.is_none()
            && Dialect::of(&database.url).ok() == Some(Dialect::Postgres)
        {
            return Err(ConfigError(
                "key_encryption_key (or key_encryption_key_file) is required with PostgreSQL: \
                 every node must decrypt the same signing keys; generate one with \
                 `portcullis keys generate-kek`"
                    .into(),
            ));
        }
        let access_token_alg =
            match pick!(l, common, access_token_alg, "PORTCULLIS_ACCESS_TOKEN_ALG") {
                None => SigningAlg::Es256,
                Some((text, origin)) => text
                    .parse()
                    .map_err(|e| invalid(&origin, "access_token_alg", e))?,
            };
        let log_format = match pick!(l, common, log_format, "PORTCULLIS_LOG_FORMAT") {
            None => LogFormat::Pretty,
            Some((text, origin)) => match text.as_str() {
                "pretty" => LogFormat::Pretty,
                "json" => LogFormat::Json,
                _ => {
                    return Err(invalid(
                        &origin,
                        "log_format",
                        format!("{text:?} is not pretty or json"),
                    ));
                }
            },
        };
        let log_level = match pick!(l, common, log_level, "PORTCULLIS_LOG_LEVEL") {
            None => "info".to_owned(),
            Some((text, origin)) => {
                tracing_subscriber::EnvFilter::try_new(&text)
                    .map_err(|e| invalid(&origin, "log_level", e))?;
                text
            }
        };
        let max_access_token_ttl = parse_duration(
            pick!(
                l,
                common,
                max_access_token_ttl,
                "PORTCULLIS_MAX_ACCESS_TOKEN_TTL"
            ),
            "max_access_token_ttl",
            Duration::from_secs(86_400),
        )?;
        let scopes = scope_registry(l.file.scopes.as_ref(), &l.path)?;
        Ok(Self {
            listen,
            issuer,
            audience,
            client_cache_ttl,
            banking,
            kyc_auto_approve,
            sandbox,
            database,
            key_encryption_key,
            access_token_alg,
            max_access_token_ttl,
            key_activation_delay: parse_duration(
                pick!(
                    l,
                    server,
                    key_activation_delay,
                    "PORTCULLIS_KEY_ACTIVATION_DELAY"
                ),
                "key_activation_delay",
                Duration::from_secs(600),
            )?,
            key_refresh_interval: parse_duration(
                pick!(
                    l,
                    server,
                    key_refresh_interval,
                    "PORTCULLIS_KEY_REFRESH_INTERVAL"
                ),
                "key_refresh_interval",
                Duration::from_secs(30),
            )?,
            request_timeout: parse_duration(
                pick!(l, server, request_timeout, "PORTCULLIS_REQUEST_TIMEOUT"),
                "request_timeout",
                Duration::from_secs(30),
            )?,
            shutdown_timeout: parse_duration(
                pick!(l, server, shutdown_timeout, "PORTCULLIS_SHUTDOWN_TIMEOUT"),
                "shutdown_timeout",
                Duration::from_secs(30),
            )?,
            log_format,
            log_level,
            scopes,
        })
    }

    /// The dialect of the configured database.
    #[must_use]
    pub fn dialect(&self) -> Option<Dialect> {
        Dialect::of(&self.database.url).ok()
    }

    /// How long a superseded signing key stays published: the longest access-token lifetime,
    /// plus a minute for clock skew between nodes and verifiers.
    #[must_use]
    pub fn key_retire_after(&self) -> i64 {
        i64::try_from(self.max_access_token_ttl.as_secs())
            .unwrap_or(i64::MAX)
            .saturating_add(60)
    }
}

/// The default scopes, plus (or re-described by) the file's `[scopes]` table.
fn scope_registry(
    extra: Option<&std::collections::BTreeMap<String, String>>,
    path: &Path,
) -> Result<ScopeRegistry, ConfigError> {
    let mut entries: std::collections::BTreeMap<String, String> = DEFAULT_SCOPES
        .iter()
        .map(|(s, d)| ((*s).to_owned(), (*d).to_owned()))
        .collect();
    for (name, description) in extra.into_iter().flatten() {
        portcullis_proto::Scope::parse(name).map_err(|e| {
            ConfigError(format!(
                "invalid scope {name:?} in [scopes] of {}: {e}",
                path.display()
            ))
        })?;
        if description.trim().is_empty() {
            return Err(ConfigError(format!(
                "scope {name:?} in [scopes] of {} needs a description for the consent page",
                path.display()
            )));
        }
        entries.insert(name.clone(), description.clone());
    }
    Ok(ScopeRegistry::new(entries))
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1)
            .map_or_else(String::new, |n| format!(" line {n}:"));
        ConfigError(format!(
            "config file {}:{line} {}",
            path.display(),
            e.message().trim()
        ))
    })
}

/// The issuer must be an https URL without query or fragment (RFC 8414 §2); http is accepted
/// only for loopback hosts, so that a development issuer can never reach production.
fn validate_issuer(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "{text:?} must be an https URL (http only on loopback hosts)"
            ));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{text:?} must not have a query or fragment"));
    }
    if url.path() != "/" {
        return Err(format!(
            "{text:?} must not have a path; serve Portcullis at the root of a host"
        ));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

fn validate_database_url(url: &str) -> Result<(), String> {
    match Dialect::of(url).map_err(|_| {
        format!(
            "{:?} is not a sqlite:// or postgres:// URL",
            portcullis_store::redact_url(url)
        )
    })? {
        Dialect::Sqlite => Ok(()),
        Dialect::Postgres => url::Url::parse(url).map(|_| ()).map_err(|e| {
            format!(
                "{} is not a valid URL ({e})",
                portcullis_store::redact_url(url)
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_toml(toml: &str, common: CommonArgs) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portcullis.toml");
        std::fs::write(&path, toml).unwrap();
        Config::load(
            &CommonArgs {
                config: Some(path),
                ..common
            },
            Some(&ServerArgs::default()),
        )
    }

    #[test]
    fn defaults_without_any_setting() {
        let config = Config::load(&CommonArgs::default(), None).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database.url, DEFAULT_DATABASE_URL);
        assert_eq!(config.access_token_alg, SigningAlg::Es256);
        assert!(!config.sandbox);
        assert_eq!(config.issuer, None);
    }

    #[test]
    fn flags_override_the_file() {
        let config = load_toml(
            "listen = \"127.0.0.1:9000\"\ndatabase_url = \"sqlite://a.db\"\nshutdown_timeout = 5\n",
            CommonArgs {
                database_url: Some("sqlite://b.db".into()),
                ..CommonArgs::default()
            },
        )
        .unwrap();
        assert_eq!(config.database.url, "sqlite://b.db");
        assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(config.shutdown_timeout, Duration::from_secs(5));
    }

    #[test]
    fn unknown_keys_in_the_file_are_named() {
        let err = load_toml(
            "listen = \"127.0.0.1:1\"\nlisen = \"x\"\n",
            CommonArgs::default(),
        )
        .unwrap_err();
        assert!(err.0.contains("line 2"), "{err}");
        assert!(err.0.contains("lisen"), "{err}");
        assert!(!err.0.contains('\n'), "{err}");
    }

    #[test]
    fn bad_values_name_their_origin() {
        let err = Config::load(
            &CommonArgs {
                database_url: Some("mysql://x".into()),
                ..CommonArgs::default()
            },
            None,
        )
        .unwrap_err();
        assert!(
            err.0.contains("--database-url or PORTCULLIS_DATABASE_URL"),
            "{err}"
        );
        let err = load_toml("request_timeout = \"soon\"\n", CommonArgs::default()).unwrap_err();
        assert!(err.0.contains("`request_timeout` in"), "{err}");
    }

    #[test]
    fn scopes_extend_the_registry() {
        let config = load_toml(
            "[scopes]\n\"payments:write\" = \"Send payments for you\"\n\"wallet:read\" = \"Your wallets\"\n",
            CommonArgs::default(),
        )
        .unwrap();
        assert_eq!(
            config.scopes.describe("payments:write"),
            Some("Send payments for you")
        );
        assert_eq!(config.scopes.describe("wallet:read"), Some("Your wallets"));
        assert!(config.scopes.describe("openid").is_some());
        let err =
            load_toml("[scopes]\n\"bad scope\" = \"x\"\n", CommonArgs::default()).unwrap_err();
        assert!(err.0.contains("invalid scope"), "{err}");
    }

    #[test]
    fn issuer_rules() {
        assert_eq!(
            validate_issuer("https://auth.example/").unwrap(),
            "https://auth.example"
        );
        assert!(validate_issuer("http://127.0.0.1:8080").is_ok());
        assert!(validate_issuer("http://auth.example").is_err());
        assert!(validate_issuer("https://auth.example/?x=1").is_err());
        assert!(validate_issuer("https://auth.example/tenant").is_err());
        assert!(validate_issuer("not a url").is_err());
    }

    #[test]
    fn postgres_requires_a_key_encryption_key() {
        let common = CommonArgs {
            database_url: Some("postgres://u@localhost/db".into()),
            ..CommonArgs::default()
        };
        let err = Config::load(&common, None).unwrap_err();
        assert!(err.0.contains("key_encryption_key"), "{err}");
    }

    #[test]
    fn secrets_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        std::fs::write(&path, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").unwrap();
        let common = CommonArgs {
            key_encryption_key_file: Some(path),
            ..CommonArgs::default()
        };
        let config = Config::load(&common, None).unwrap();
        assert_eq!(
            config.key_encryption_key.unwrap().expose(),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        );
        let both = CommonArgs {
            key_encryption_key: Some("x".into()),
            key_encryption_key_file: Some(dir.path().join("kek")),
            ..CommonArgs::default()
        };
        assert!(
            Config::load(&both, None)
                .unwrap_err()
                .0
                .contains("give one")
        );
    }
}
