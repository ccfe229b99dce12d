//! Configuration layering and validation.

use super::*;
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
