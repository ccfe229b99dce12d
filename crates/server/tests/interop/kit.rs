//! What the library tests share: OpenID Connect clients, the user, the script's environment,
//! and the user's part of the flow.

use std::collections::BTreeSet;

use portcullis_core::admin::clients::NewClient;
use portcullis_core::client::{Client, ClientKind, GrantType};
use portcullis_core::keys::SigningAlg;
use portcullis_core::user::User;
use portcullis_proto::{ScopeSet, Secret};
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{REDIRECT_URI, browser};
use serde_json::Value;

use crate::logout;
use crate::script::{Script, Step};

/// The OpenID Connect scopes the libraries ask for by default (and Authlib's documentation
/// uses): what an integrator's first request carries.
pub const OIDC_SCOPE: &str = "openid profile email";

/// A client for [`OIDC_SCOPE`] and `offline_access`, every grant, ID tokens signed with `alg`.
pub fn oidc_client(kind: ClientKind, alg: SigningAlg) -> NewClient {
    let grants = match kind {
        ClientKind::Public => vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        ClientKind::Confidential => GrantType::ALL.to_vec(),
    };
    NewClient {
        kind,
        redirect_uris: vec![REDIRECT_URI.to_owned()],
        post_logout_redirect_uris: vec![logout::POST_LOGOUT_REDIRECT_URI.to_owned()],
        grant_types: BTreeSet::from_iter(grants),
        scopes: ScopeSet::parse(&format!("{OIDC_SCOPE} offline_access")).unwrap(),
        id_token_alg: alg,
        ..NewClient::confidential(format!("{alg} relying party"))
    }
}

/// The audience of the app's access tokens.
pub fn audience(app: &TestApp) -> String {
    app.config
        .audience
        .clone()
        .unwrap_or_else(|| app.issuer.clone())
}

/// `script` with the app's issuer, audience and redirect URI, the client and its secret.
pub fn for_client(
    script: Script,
    app: &TestApp,
    client: &Client,
    secret: Option<&Secret>,
) -> Script {
    let script = script
        .env("ISSUER", &app.issuer)
        .env("AUDIENCE", audience(app))
        .env("REDIRECT_URI", REDIRECT_URI)
        .env("CLIENT_ID", client.id.as_str());
    let script = match secret {
        Some(secret) => script.env("CLIENT_SECRET", secret.expose()),
        None => script,
    };
    logout::for_script(script)
}

/// Runs a code-flow script as `user` would: a fresh browser logs in and allows every scope
/// asked for, and (when switched on) logs out. Returns the script's result.
pub async fn as_user(app: &TestApp, script: Script, user: &User) -> Value {
    let browser = browser();
    let result = script
        .run(async |step| match step {
            Step::Authorize(url) => app
                .user_approves(&browser, &url, &user.email, None)
                .await
                .url
                .to_string(),
            Step::Logout(url) => logout::user_logs_out(app, &browser, &url).await,
        })
        .await;
    logout::check(app, &browser, &result).await;
    result
}

/// Checks what every library saw of the user in the ID token and userinfo for [`OIDC_SCOPE`].
#[track_caller]
pub fn assert_identity(app: &TestApp, result: &Value, user: &User, client: &Client) {
    let id_token = &result["id_token"];
    assert_eq!(id_token["iss"], app.issuer.as_str(), "{result:#}");
    assert_eq!(id_token["sub"], user.id.as_str(), "{result:#}");
    let audience = &id_token["aud"];
    assert!(
        audience == client.id.as_str()
            || audience
                .as_array()
                .is_some_and(|a| a.contains(&Value::from(client.id.as_str()))),
        "{result:#}"
    );
    let userinfo = &result["userinfo"];
    assert_eq!(userinfo["sub"], user.id.as_str(), "{result:#}");
    for claims in [id_token, userinfo] {
        assert_eq!(claims["email"], user.email.as_str(), "{result:#}");
        assert_eq!(claims["email_verified"], false, "{result:#}");
        assert_eq!(claims["name"], user.name.as_str(), "{result:#}");
    }
    assert_eq!(result["refreshed"]["rotated"], true, "{result:#}");
    assert_eq!(result["refreshed"]["new_access_token"], true, "{result:#}");
    assert_eq!(
        result["after_revocation"]["error"], "invalid_grant",
        "{result:#}"
    );
}

/// The scopes of [`machine_client`].
pub const MACHINE_SCOPE: &str = "orders:read wallet:read";

/// A confidential client that only uses client credentials, for [`MACHINE_SCOPE`].
pub fn machine_client() -> NewClient {
    NewClient {
        grant_types: BTreeSet::from([GrantType::ClientCredentials]),
        scopes: ScopeSet::parse(MACHINE_SCOPE).unwrap(),
        ..NewClient::confidential("Machine client")
    }
}

/// Checks a client-credentials result: a bearer token for `client` with `scope`.
#[track_caller]
pub fn assert_client_token(result: &Value, client: &Client, scope: &str) {
    let token_type = result["token_type"].as_str().map(str::to_ascii_lowercase);
    assert_eq!(token_type.as_deref(), Some("bearer"), "{result:#}");
    assert_eq!(result["scope"], scope, "{result:#}");
    assert_eq!(
        result["access_token"]["client_id"],
        client.id.as_str(),
        "{result:#}"
    );
    assert_eq!(
        result["access_token"]["sub"],
        client.id.as_str(),
        "{result:#}"
    );
}

/// A token for the admin API: an admin client's client credentials with scope `admin`.
pub async fn admin_token(app: &TestApp) -> String {
    let (client, secret) = app
        .client(NewClient {
            grant_types: BTreeSet::from([GrantType::ClientCredentials]),
            scopes: ScopeSet::parse("admin").unwrap(),
            admin: true,
            ..NewClient::confidential("Admin console")
        })
        .await;
    let form = [("grant_type", "client_credentials"), ("scope", "admin")];
    let (status, tokens) = app.token(client.id.as_str(), secret.as_ref(), &form).await;
    assert_eq!(status, 200, "{tokens}");
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// The stored client `id`.
pub async fn stored_client(app: &TestApp, id: &portcullis_proto::ClientId) -> Client {
    use portcullis_core::store::ClientStore as _;
    app.store.client(id).await.unwrap().unwrap()
}

/// A fresh app that signs access tokens with `alg`.
pub async fn app_signing_access_tokens(alg: SigningAlg) -> TestApp {
    let configure: fn(&mut portcullis::config::Config) = match alg {
        SigningAlg::Es256 => |c| c.access_token_alg = SigningAlg::Es256,
        SigningAlg::EdDsa => |c| c.access_token_alg = SigningAlg::EdDsa,
        SigningAlg::Ps256 => |c| c.access_token_alg = SigningAlg::Ps256,
        SigningAlg::Rs256 => |c| c.access_token_alg = SigningAlg::Rs256,
    };
    portcullis_testkit::spawn_app_configured(configure).await
}
