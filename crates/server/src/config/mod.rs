//! Configuration: flags > `PORTCULLIS_*` environment variables > TOML file > defaults, read and
//! validated once at start-up. Every problem is reported as one line that names the setting and
//! where its value came from.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use portcullis_core::keys::{KeyEncryptionKey, SigningAlg};
use portcullis_core::scopes::ScopeRegistry;
use portcullis_http::compat::{CompatSettings, Profile};
use portcullis_proto::Secret;
use portcullis_store::{Dialect, StoreOptions};

use crate::duration;

mod args;
mod file;

pub use args::{CommonArgs, ServerArgs};
use file::{FileConfig, read_file, scope_registry};

/// The database used when none is configured.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./portcullis-data/portcullis.db";
/// The address used when none is configured.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

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
    /// Lifetime of a pushed authorization request (RFC 9126).
    pub pushed_request_lifetime: Duration,
    /// Every client must push its authorization requests.
    pub require_pushed_authorization_requests: bool,
    /// Serve the banking resource API and onboarding.
    pub banking: bool,
    /// Approve KYC on submission.
    pub kyc_auto_approve: bool,
    /// Seed and announce the sandbox.
    pub sandbox: bool,
    /// Let operators credit profiles (the sandbox's stand-in for incoming transfers).
    pub sandbox_funding: bool,
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
    /// The compatibility profiles and partner links.
    pub compat: CompatSettings,
    /// Request limits, rate limits and trusted proxies.
    pub limits: Limits,
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

mod limits;

pub use limits::Limits;

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

/// [`parse_duration`] for a period or timeout that cannot be zero (a zero timeout would refuse
/// every request; a zero period would spin).
fn parse_period(
    value: Option<(String, Origin)>,
    what: &str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let origin = value.as_ref().map(|(_, origin)| origin.clone());
    let period = parse_duration(value, what, default)?;
    match origin {
        Some(origin) if period.is_zero() => Err(invalid(
            &origin,
            what,
            "must be longer than zero".to_owned(),
        )),
        _ => Ok(period),
    }
}

/// The profiles from `--compat`/`PORTCULLIS_COMPAT` (comma-separated) or the file's `compat`
/// list; all of them in the sandbox unless set. Partner links come from the file's `[partners]`
/// table; the sandbox adds `demo` for its demo app.
fn compat_settings(l: &Layers<'_>, sandbox: bool) -> Result<CompatSettings, ConfigError> {
    let cli = l.server.and_then(|a| a.compat.clone());
    let (names, origin): (Option<Vec<String>>, String) = match (cli, &l.file.compat) {
        (Some(text), _) => (
            Some(
                text.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            "from --compat or PORTCULLIS_COMPAT".to_owned(),
        ),
        (None, Some(list)) => (
            Some(list.clone()),
            format!("from `compat` in {}", l.path.display()),
        ),
        (None, None) => (None, String::new()),
    };
    let profiles = match names {
        Some(names) => names
            .iter()
            .map(|n| {
                n.parse::<Profile>()
                    .map_err(|e| ConfigError(format!("invalid compat ({origin}): {e}")))
            })
            .collect::<Result<_, _>>()?,
        None if sandbox => Profile::ALL.into_iter().collect(),
        None => std::collections::BTreeSet::new(),
    };
    let mut partners: std::collections::BTreeMap<String, portcullis_proto::ClientId> = l
        .file
        .partners
        .iter()
        .flatten()
        .map(|(slug, client)| {
            (
                slug.clone(),
                portcullis_proto::ClientId::new(client.clone()),
            )
        })
        .collect();
    if sandbox {
        partners
            .entry("demo".to_owned())
            .or_insert_with(|| portcullis_proto::ClientId::new("demo-app"));
    }
    Ok(CompatSettings { profiles, partners })
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
        let lifetime = pick!(
            l,
            server,
            pushed_request_lifetime,
            "PORTCULLIS_PUSHED_REQUEST_LIFETIME"
        );
        let origin = lifetime.as_ref().map(|(_, origin)| origin.clone());
        let pushed_request_lifetime =
            parse_period(lifetime, "pushed_request_lifetime", Duration::from_secs(60))?;
        if let Some(origin) = origin.filter(|_| pushed_request_lifetime > Duration::from_secs(600))
        {
            return Err(invalid(
                &origin,
                "pushed_request_lifetime",
                "it must be at most 10m: a request_uri is short-lived (RFC 9126 §2.2)",
            ));
        }
        let require_pushed_authorization_requests = parse_bool(
            pick!(
                l,
                server,
                require_pushed_authorization_requests,
                "PORTCULLIS_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS"
            ),
            "require_pushed_authorization_requests",
            false,
        )?;
        let sandbox = parse_bool(
            pick!(l, server, sandbox, "PORTCULLIS_SANDBOX"),
            "sandbox",
            false,
        )?;
        let sandbox_funding = parse_bool(
            pick!(l, common, sandbox_funding, "PORTCULLIS_SANDBOX_FUNDING"),
            "sandbox_funding",
            sandbox,
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
        let compat = compat_settings(l, sandbox)?;
        let limits = limits::limits(l)?;
        Ok(Self {
            listen,
            issuer,
            audience,
            client_cache_ttl,
            pushed_request_lifetime,
            require_pushed_authorization_requests,
            banking,
            kyc_auto_approve,
            sandbox,
            sandbox_funding,
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
            key_refresh_interval: parse_period(
                pick!(
                    l,
                    server,
                    key_refresh_interval,
                    "PORTCULLIS_KEY_REFRESH_INTERVAL"
                ),
                "key_refresh_interval",
                Duration::from_secs(30),
            )?,
            request_timeout: parse_period(
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
            compat,
            limits,
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
mod tests;
