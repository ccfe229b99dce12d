//! Configuration layering and validation.

use super::*;
use portcullis_core::throttle::Limit;
use portcullis_http::client_ip::ForwardedHeader;
use portcullis_http::compat::Profile;

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
    let err = load_toml("[scopes]\n\"bad scope\" = \"x\"\n", CommonArgs::default()).unwrap_err();
    assert!(err.0.contains("invalid scope"), "{err}");
}

#[test]
fn compat_profiles_from_flags_file_or_sandbox() {
    let config = Config::load(
        &CommonArgs::default(),
        Some(&ServerArgs {
            compat: Some("monerium, moneybutton".into()),
            ..ServerArgs::default()
        }),
    )
    .unwrap();
    assert!(config.compat.has(Profile::Monerium) && config.compat.has(Profile::MoneyButton));
    assert!(!config.compat.has(Profile::Monei));
    let config = load_toml(
        "compat = [\"monei\"]\n[partners]\npiedpiper = \"client-1\"\n",
        CommonArgs::default(),
    )
    .unwrap();
    assert!(config.compat.has(Profile::Monei));
    assert_eq!(config.compat.partners["piedpiper"].as_str(), "client-1");
    let sandbox = Config::load(
        &CommonArgs::default(),
        Some(&ServerArgs {
            sandbox: Some("true".into()),
            ..ServerArgs::default()
        }),
    )
    .unwrap();
    assert_eq!(sandbox.compat.profiles.len(), 4);
    assert_eq!(sandbox.compat.partners["demo"].as_str(), "demo-app");
    let err = Config::load(
        &CommonArgs::default(),
        Some(&ServerArgs {
            compat: Some("paypal".into()),
            ..ServerArgs::default()
        }),
    )
    .unwrap_err();
    assert!(
        err.0.contains("unknown compatibility profile \"paypal\""),
        "{err}"
    );
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

#[test]
fn limits_default_when_unset() {
    let config = Config::load(&CommonArgs::default(), Some(&ServerArgs::default())).unwrap();
    assert_eq!(config.limits, Limits::default());
    let rates = config.limits.rate_limits;
    assert_eq!(rates.login_per_account_network.max, 5);
    assert_eq!(rates.login_per_account_network.window, 900);
    assert!(
        rates.login_failures_per_account.max > rates.login_per_account_network.max,
        "one network alone cannot slow an account down"
    );
    assert!(rates.client_auth_failures_per_ip.max < rates.token_per_ip.max);
    assert_eq!(config.limits.max_concurrent_requests, 1024);
    assert!(config.limits.trusted_proxies.networks.is_empty());
}

#[test]
fn limits_come_from_the_file_and_flags_win() {
    let toml = "login_failures_per_network = 100000000\n\
        login_attempts_per_account_network = 100000000\n\
        login_failures_per_account = 40\nlogin_failures_per_account_window = \"1h\"\n\
        login_attempts_per_device = 7\nlogin_attempts_per_device_window = \"5m\"\n\
        signups_per_ip = 3\nsignups_per_ip_window = \"10m\"\n\
        token_requests_per_client = 50\ntoken_requests_per_client_window = 10\n\
        token_requests_per_ip = 70\ntoken_requests_per_ip_window = \"1h\"\n\
        client_auth_failures_per_ip = 4\nclient_auth_failures_per_ip_window = \"2m\"\n\
        max_concurrent_requests = 64\nrate_limit_sync_interval = \"100ms\"\n\
        trusted_proxies = [\"10.0.0.0/8\", \"192.168.1.5\", \"2001:db8::/32\"]\n\
        forwarded_header = \"forwarded\"\n";
    let config = load_toml(toml, CommonArgs::default()).unwrap();
    let rates = config.limits.rate_limits;
    assert_eq!(rates.login_failures_per_network.max, 100_000_000);
    assert_eq!(rates.login_per_account_network.max, 100_000_000);
    assert_eq!(
        rates.login_failures_per_account,
        Limit {
            max: 40,
            window: 3600
        }
    );
    assert_eq!(
        rates.login_per_device,
        Limit {
            max: 7,
            window: 300
        }
    );
    assert_eq!(
        rates.signup_per_ip,
        Limit {
            max: 3,
            window: 600
        }
    );
    assert_eq!(
        rates.token_per_client,
        Limit {
            max: 50,
            window: 10
        }
    );
    assert_eq!(
        rates.token_per_ip,
        Limit {
            max: 70,
            window: 3600
        }
    );
    assert_eq!(
        rates.client_auth_failures_per_ip,
        Limit {
            max: 4,
            window: 120
        }
    );
    assert_eq!(config.limits.max_concurrent_requests, 64);
    assert_eq!(
        config.limits.rate_limit_sync_interval,
        Duration::from_millis(100)
    );
    let proxies = &config.limits.trusted_proxies;
    assert_eq!(proxies.networks.len(), 3);
    assert!(proxies.trusts("10.9.8.7".parse().unwrap()));
    assert!(proxies.trusts("192.168.1.5".parse().unwrap()));
    assert!(!proxies.trusts("192.168.1.6".parse().unwrap()));
    assert_eq!(proxies.header, ForwardedHeader::Forwarded);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portcullis.toml");
    std::fs::write(&path, toml).unwrap();
    let config = Config::load(
        &CommonArgs {
            config: Some(path),
            ..CommonArgs::default()
        },
        Some(&ServerArgs {
            token_requests_per_client: Some("7".into()),
            trusted_proxies: Some("172.16.0.0/12, 127.0.0.1".into()),
            ..ServerArgs::default()
        }),
    )
    .unwrap();
    assert_eq!(config.limits.rate_limits.token_per_client.max, 7);
    assert_eq!(
        config.limits.rate_limits.token_per_client.window, 10,
        "the file's window stays"
    );
    assert!(
        config
            .limits
            .trusted_proxies
            .trusts("127.0.0.1".parse().unwrap())
    );
    assert!(
        !config
            .limits
            .trusted_proxies
            .trusts("10.0.0.1".parse().unwrap())
    );
}

#[test]
fn bad_limits_are_named_with_their_origin() {
    for (toml, named) in [
        ("token_requests_per_ip = 0\n", "token_requests_per_ip"),
        ("signups_per_ip = \"many\"\n", "signups_per_ip"),
        (
            "login_failures_per_network_window = \"250ms\"\n",
            "whole seconds",
        ),
        ("token_requests_per_client_window = \"2d\"\n", "1d"),
        ("max_concurrent_requests = 0\n", "max_concurrent_requests"),
        ("rate_limit_sync_interval = \"5m\"\n", "10ms to 60s"),
        ("trusted_proxies = [\"10.0.0.0/33\"]\n", "prefix length"),
        (
            "trusted_proxies = [\"proxy.internal\"]\n",
            "not an IP address",
        ),
        (
            "trusted_proxies = [\"0.0.0.0/0\"]\n",
            "trusts every address",
        ),
        ("trusted_proxies = [\"::/0\"]\n", "trusts every address"),
        ("forwarded_header = \"x-real-ip\"\n", "forwarded_header"),
    ] {
        let err = load_toml(toml, CommonArgs::default()).unwrap_err();
        assert!(err.0.contains(named), "{toml}: {err}");
        assert!(err.0.contains("portcullis.toml"), "{toml}: {err}");
        assert!(!err.0.contains('\n'), "{err}");
    }
    let err = Config::load(
        &CommonArgs::default(),
        Some(&ServerArgs {
            trusted_proxies: Some("10.0.0.1, nope".into()),
            ..ServerArgs::default()
        }),
    )
    .unwrap_err();
    assert!(
        err.0
            .contains("--trusted-proxies or PORTCULLIS_TRUSTED_PROXIES"),
        "{err}"
    );
}

#[test]
fn limit_variables_have_the_names_the_benchmark_sets() {
    use clap::Args as _;
    let command = ServerArgs::augment_args(clap::Command::new("serve"));
    let env = |id: &str| {
        command
            .get_arguments()
            .find(|a| a.get_id() == id)
            .and_then(|a| a.get_env())
            .map(|e| e.to_string_lossy().into_owned())
    };
    for (id, name) in [
        (
            "login_failures_per_network",
            "PORTCULLIS_LOGIN_FAILURES_PER_NETWORK",
        ),
        (
            "login_attempts_per_account_network",
            "PORTCULLIS_LOGIN_ATTEMPTS_PER_ACCOUNT_NETWORK",
        ),
        (
            "token_requests_per_client",
            "PORTCULLIS_TOKEN_REQUESTS_PER_CLIENT",
        ),
        ("token_requests_per_ip", "PORTCULLIS_TOKEN_REQUESTS_PER_IP"),
        ("trusted_proxies", "PORTCULLIS_TRUSTED_PROXIES"),
        (
            "max_concurrent_requests",
            "PORTCULLIS_MAX_CONCURRENT_REQUESTS",
        ),
    ] {
        assert_eq!(env(id).as_deref(), Some(name), "{id}");
    }
}

#[test]
fn sandbox_funding_follows_the_sandbox_unless_set() {
    assert!(
        !Config::load(&CommonArgs::default(), None)
            .unwrap()
            .sandbox_funding
    );
    let sandbox = load_toml("sandbox = true\n", CommonArgs::default()).unwrap();
    assert!(sandbox.sandbox_funding);
    let off = load_toml(
        "sandbox = true\nsandbox_funding = false\n",
        CommonArgs::default(),
    )
    .unwrap();
    assert!(off.sandbox && !off.sandbox_funding);
    let flag = Config::load(
        &CommonArgs {
            sandbox_funding: Some("true".into()),
            ..CommonArgs::default()
        },
        None,
    )
    .unwrap();
    assert!(!flag.sandbox && flag.sandbox_funding);
}

#[test]
fn pushed_requests_live_a_minute_by_default_ten_at_most_and_may_be_required() {
    let config = Config::load(&CommonArgs::default(), Some(&ServerArgs::default())).unwrap();
    assert_eq!(config.pushed_request_lifetime, Duration::from_secs(60));
    assert!(!config.require_pushed_authorization_requests);
    let config = load_toml(
        "pushed_request_lifetime = \"10m\"\nrequire_pushed_authorization_requests = true\n",
        CommonArgs::default(),
    )
    .unwrap();
    assert_eq!(config.pushed_request_lifetime, Duration::from_secs(600));
    assert!(config.require_pushed_authorization_requests);
    let err = load_toml("pushed_request_lifetime = \"11m\"\n", CommonArgs::default()).unwrap_err();
    assert!(err.0.contains("pushed_request_lifetime"), "{err}");
    assert!(err.0.contains("10m"), "{err}");
    let err = load_toml("pushed_request_lifetime = \"0s\"\n", CommonArgs::default()).unwrap_err();
    assert!(err.0.contains("pushed_request_lifetime"), "{err}");
}
