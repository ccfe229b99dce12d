//! Request limits, rate limits and trusted proxies.

use std::time::Duration;

use portcullis_core::throttle::{Limit, RateLimits};
use portcullis_http::client_ip::{ForwardedHeader, IpNet, TrustedProxies};

use super::{ConfigError, Layers, Origin, invalid, parse_duration};

/// The default number of requests served at once.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 1024;
/// How often the token endpoint's counters are added to the shared ones by default.
pub const DEFAULT_RATE_LIMIT_SYNC_INTERVAL: Duration = Duration::from_millis(250);
/// The longest rate-limit window: counters are deleted a day after their window started.
const MAX_WINDOW: i64 = 86_400;

/// The validated limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Requests served at once; past it, 503 at once.
    pub max_concurrent_requests: usize,
    /// The proxies whose forwarding header names the client.
    pub trusted_proxies: TrustedProxies,
    /// Login, sign-up and token endpoint rate limits.
    pub rate_limits: RateLimits,
    /// How often the token endpoint's local counts are added to the shared counters.
    pub rate_limit_sync_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            trusted_proxies: TrustedProxies::default(),
            rate_limits: RateLimits::default(),
            rate_limit_sync_interval: DEFAULT_RATE_LIMIT_SYNC_INTERVAL,
        }
    }
}

fn parse_count(
    value: Option<(String, Origin)>,
    what: &str,
    range: std::ops::RangeInclusive<u64>,
    default: u64,
) -> Result<u64, ConfigError> {
    match value {
        None => Ok(default),
        Some((text, origin)) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                invalid(
                    &origin,
                    what,
                    format!(
                        "{text:?} is not a number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            }),
    }
}

fn parse_window(
    value: Option<(String, Origin)>,
    what: &str,
    default: i64,
) -> Result<i64, ConfigError> {
    let origin = value.as_ref().map(|(_, o)| o.clone());
    let default = Duration::from_secs(u64::try_from(default).unwrap_or(1));
    let window = parse_duration(value, what, default)?;
    i64::try_from(window.as_secs())
        .ok()
        .filter(|s| window.subsec_nanos() == 0 && (1..=MAX_WINDOW).contains(s))
        .ok_or_else(|| match origin {
            Some(origin) => invalid(&origin, what, "a window is whole seconds, from 1s to 1d"),
            None => ConfigError(format!("bad default {what}")),
        })
}

macro_rules! limit {
    ($l:expr, $default:expr, $count:ident, $count_env:literal, $window:ident, $window_env:literal) => {{
        let default: Limit = $default;
        Limit {
            max: parse_count(
                pick!($l, server, $count, $count_env),
                stringify!($count),
                1..=1_000_000_000_000,
                default.max,
            )?,
            window: parse_window(
                pick!($l, server, $window, $window_env),
                stringify!($window),
                default.window,
            )?,
        }
    }};
}

/// The proxies from `--trusted-proxies`/`PORTCULLIS_TRUSTED_PROXIES` (comma-separated) or the
/// file's `trusted_proxies` list. A range covering every address is refused: it would make
/// every client's forwarding header believed, which is what trusting no proxy avoids.
fn trusted_proxies(l: &Layers<'_>) -> Result<TrustedProxies, ConfigError> {
    let cli = l.server.and_then(|a| a.trusted_proxies.clone());
    let (entries, origin): (Vec<String>, Option<Origin>) = match (cli, &l.file.trusted_proxies) {
        (Some(text), _) => (
            text.split(',').map(str::to_owned).collect(),
            Some(Origin::Cli {
                field: "trusted_proxies",
                env: "PORTCULLIS_TRUSTED_PROXIES",
            }),
        ),
        (None, Some(list)) => (
            list.clone(),
            Some(Origin::File {
                key: "trusted_proxies",
                path: l.path.clone(),
            }),
        ),
        (None, None) => (Vec::new(), None),
    };
    let mut networks = Vec::new();
    for entry in entries.iter().filter(|e| !e.trim().is_empty()) {
        let Some(origin) = &origin else { break };
        let net: IpNet = entry
            .parse()
            .map_err(|e| invalid(origin, "trusted_proxies", e))?;
        if net.to_string().ends_with("/0") {
            return Err(invalid(
                origin,
                "trusted_proxies",
                format!(
                    "{entry:?} trusts every address, so any client could name its own IP; \
                     list your proxies' addresses or ranges"
                ),
            ));
        }
        networks.push(net);
    }
    let header = match pick!(l, server, forwarded_header, "PORTCULLIS_FORWARDED_HEADER") {
        None => ForwardedHeader::default(),
        Some((text, origin)) => text
            .parse()
            .map_err(|e| invalid(&origin, "forwarded_header", e))?,
    };
    Ok(TrustedProxies { networks, header })
}

/// Reads every limit.
pub(super) fn limits(l: &Layers<'_>) -> Result<Limits, ConfigError> {
    let defaults = RateLimits::default();
    let rate_limits = RateLimits {
        login_per_account_network: limit!(
            l,
            defaults.login_per_account_network,
            login_attempts_per_account_network,
            "PORTCULLIS_LOGIN_ATTEMPTS_PER_ACCOUNT_NETWORK",
            login_attempts_per_account_network_window,
            "PORTCULLIS_LOGIN_ATTEMPTS_PER_ACCOUNT_NETWORK_WINDOW"
        ),
        login_failures_per_network: limit!(
            l,
            defaults.login_failures_per_network,
            login_failures_per_network,
            "PORTCULLIS_LOGIN_FAILURES_PER_NETWORK",
            login_failures_per_network_window,
            "PORTCULLIS_LOGIN_FAILURES_PER_NETWORK_WINDOW"
        ),
        login_failures_per_account: limit!(
            l,
            defaults.login_failures_per_account,
            login_failures_per_account,
            "PORTCULLIS_LOGIN_FAILURES_PER_ACCOUNT",
            login_failures_per_account_window,
            "PORTCULLIS_LOGIN_FAILURES_PER_ACCOUNT_WINDOW"
        ),
        login_per_device: limit!(
            l,
            defaults.login_per_device,
            login_attempts_per_device,
            "PORTCULLIS_LOGIN_ATTEMPTS_PER_DEVICE",
            login_attempts_per_device_window,
            "PORTCULLIS_LOGIN_ATTEMPTS_PER_DEVICE_WINDOW"
        ),
        signup_per_ip: limit!(
            l,
            defaults.signup_per_ip,
            signups_per_ip,
            "PORTCULLIS_SIGNUPS_PER_IP",
            signups_per_ip_window,
            "PORTCULLIS_SIGNUPS_PER_IP_WINDOW"
        ),
        token_per_client: limit!(
            l,
            defaults.token_per_client,
            token_requests_per_client,
            "PORTCULLIS_TOKEN_REQUESTS_PER_CLIENT",
            token_requests_per_client_window,
            "PORTCULLIS_TOKEN_REQUESTS_PER_CLIENT_WINDOW"
        ),
        token_per_ip: limit!(
            l,
            defaults.token_per_ip,
            token_requests_per_ip,
            "PORTCULLIS_TOKEN_REQUESTS_PER_IP",
            token_requests_per_ip_window,
            "PORTCULLIS_TOKEN_REQUESTS_PER_IP_WINDOW"
        ),
        client_auth_failures_per_ip: limit!(
            l,
            defaults.client_auth_failures_per_ip,
            client_auth_failures_per_ip,
            "PORTCULLIS_CLIENT_AUTH_FAILURES_PER_IP",
            client_auth_failures_per_ip_window,
            "PORTCULLIS_CLIENT_AUTH_FAILURES_PER_IP_WINDOW"
        ),
    };
    let max_concurrent_requests = parse_count(
        pick!(
            l,
            server,
            max_concurrent_requests,
            "PORTCULLIS_MAX_CONCURRENT_REQUESTS"
        ),
        "max_concurrent_requests",
        1..=1_000_000,
        DEFAULT_MAX_CONCURRENT_REQUESTS as u64,
    )?;
    let sync_value = pick!(
        l,
        server,
        rate_limit_sync_interval,
        "PORTCULLIS_RATE_LIMIT_SYNC_INTERVAL"
    );
    let sync_origin = sync_value.as_ref().map(|(_, o)| o.clone());
    let rate_limit_sync_interval = parse_duration(
        sync_value,
        "rate_limit_sync_interval",
        DEFAULT_RATE_LIMIT_SYNC_INTERVAL,
    )?;
    if let Some(origin) = sync_origin
        && !(Duration::from_millis(10)..=Duration::from_secs(60))
            .contains(&rate_limit_sync_interval)
    {
        return Err(invalid(
            &origin,
            "rate_limit_sync_interval",
            "must be from 10ms to 60s",
        ));
    }
    Ok(Limits {
        max_concurrent_requests: usize::try_from(max_concurrent_requests)
            .unwrap_or(DEFAULT_MAX_CONCURRENT_REQUESTS),
        trusted_proxies: trusted_proxies(l)?,
        rate_limits,
        rate_limit_sync_interval,
    })
}
