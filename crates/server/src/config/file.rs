//! The TOML file: every key of the flags, plus tables (`[scopes]`). Unknown keys are an
//! error, so a misspelt setting is never silently ignored.

use std::path::{Path, PathBuf};

use portcullis_core::scopes::{DEFAULT_SCOPES, ScopeRegistry};
use serde::Deserialize;

use super::ConfigError;

/// A TOML value that may be a number or text (`shutdown_timeout = 30` or `"30s"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum Scalar {
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
pub(super) struct FileConfig {
    pub(super) listen: Option<String>,
    pub(super) issuer: Option<String>,
    pub(super) audience: Option<String>,
    pub(super) client_cache_ttl: Option<Scalar>,
    pub(super) pushed_request_lifetime: Option<Scalar>,
    pub(super) require_pushed_authorization_requests: Option<Scalar>,
    pub(super) banking: Option<Scalar>,
    pub(super) kyc: Option<String>,
    pub(super) sandbox: Option<Scalar>,
    pub(super) sandbox_funding: Option<Scalar>,
    pub(super) database_url: Option<String>,
    pub(super) database_url_file: Option<PathBuf>,
    pub(super) database_max_connections: Option<Scalar>,
    pub(super) database_acquire_timeout: Option<Scalar>,
    pub(super) sqlite_synchronous: Option<String>,
    pub(super) key_encryption_key: Option<String>,
    pub(super) key_encryption_key_file: Option<PathBuf>,
    pub(super) access_token_alg: Option<String>,
    pub(super) max_access_token_ttl: Option<Scalar>,
    pub(super) key_activation_delay: Option<Scalar>,
    pub(super) key_refresh_interval: Option<Scalar>,
    pub(super) request_timeout: Option<Scalar>,
    pub(super) shutdown_timeout: Option<Scalar>,
    pub(super) log_format: Option<String>,
    pub(super) log_level: Option<String>,
    pub(super) max_concurrent_requests: Option<Scalar>,
    /// Trusted proxies: `trusted_proxies = ["10.0.0.0/8", "192.168.1.5"]`.
    pub(super) trusted_proxies: Option<Vec<String>>,
    pub(super) forwarded_header: Option<String>,
    pub(super) login_attempts_per_account_network: Option<Scalar>,
    pub(super) login_attempts_per_account_network_window: Option<Scalar>,
    pub(super) login_failures_per_network: Option<Scalar>,
    pub(super) login_failures_per_network_window: Option<Scalar>,
    pub(super) login_failures_per_account: Option<Scalar>,
    pub(super) login_failures_per_account_window: Option<Scalar>,
    pub(super) login_attempts_per_device: Option<Scalar>,
    pub(super) login_attempts_per_device_window: Option<Scalar>,
    pub(super) signups_per_ip: Option<Scalar>,
    pub(super) signups_per_ip_window: Option<Scalar>,
    pub(super) token_requests_per_client: Option<Scalar>,
    pub(super) token_requests_per_client_window: Option<Scalar>,
    pub(super) token_requests_per_ip: Option<Scalar>,
    pub(super) token_requests_per_ip_window: Option<Scalar>,
    pub(super) client_auth_failures_per_ip: Option<Scalar>,
    pub(super) client_auth_failures_per_ip_window: Option<Scalar>,
    pub(super) rate_limit_sync_interval: Option<Scalar>,
    /// Extra scopes (or new descriptions for the default ones): `"name" = "description"`.
    pub(super) scopes: Option<std::collections::BTreeMap<String, String>>,
    /// Compatibility profiles: `compat = ["monerium", "monei"]`.
    pub(super) compat: Option<Vec<String>>,
    /// Monerium partner links: `[partners]` with `slug = "client id"`.
    pub(super) partners: Option<std::collections::BTreeMap<String, String>>,
}

impl From<Scalar> for String {
    fn from(value: Scalar) -> Self {
        value.into_text()
    }
}

/// The default scopes, plus (or re-described by) the file's `[scopes]` table.
pub(super) fn scope_registry(
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

pub(super) fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
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
