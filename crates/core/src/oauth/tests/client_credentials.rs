//! The client credentials grant (RFC 6749 §4.4).

use portcullis_proto::ClientId;

use super::bench::{APP, Bench, NATIVE, scopes};
use crate::audit::AuditKind;
use crate::client::GrantType;
use crate::oauth::TokenError;
use crate::oauth::access;
use crate::oauth::client_auth::AuthMethod;
use crate::oauth::grant::{GrantRequest, exchange};

fn client_credentials(scope: Option<&str>) -> GrantRequest {
    GrantRequest::ClientCredentials {
        scope: scope.map(str::to_owned),
    }
}

#[tokio::test]
async fn client_credentials_carry_every_client_scope_and_no_refresh_token() {
    let bench = Bench::new().await;

    let issued = bench.token(APP, client_credentials(None)).await.unwrap();

    assert_eq!(issued.scope, scopes("openid profile email wallet:read"));
    assert!(issued.refresh_token.is_none() && issued.id_token.is_none());
    assert_eq!(issued.user, None);
    let claims = access::check(&bench.ctx(), issued.access_token.expose())
        .await
        .unwrap();
    assert_eq!((claims.sub.as_str(), claims.gid), (APP, None));
    assert_eq!(claims.exp, bench.now().0 + 300);
    let events = bench.audit.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, AuditKind::TokensIssued);
    assert_eq!(events[0].client_id, Some(ClientId::new(APP)));
    assert_eq!(events[0].detail["grant_type"], "client_credentials");
}

#[tokio::test]
async fn client_credentials_scope_within_the_client_only() {
    let bench = Bench::new().await;
    let narrow = bench
        .token(APP, client_credentials(Some("profile")))
        .await
        .unwrap();
    assert_eq!(narrow.scope, scopes("profile"));
    let beyond = bench
        .token(APP, client_credentials(Some("profile admin")))
        .await;
    assert!(
        matches!(beyond, Err(TokenError::ScopeNotAllowed)),
        "{beyond:?}"
    );
    assert_eq!(
        bench.audited(),
        [AuditKind::TokensIssued],
        "a refusal issues nothing"
    );
}

#[tokio::test]
async fn public_client_gets_no_client_credentials_token() {
    let bench = Bench::new().await;
    // Not among the native app's grants.
    let not_allowed = bench.token(NATIVE, client_credentials(None)).await;
    assert!(matches!(
        not_allowed,
        Err(TokenError::GrantNotAllowed(GrantType::ClientCredentials))
    ));
    // Allowed by a direct edit: still refused, since a public client proves nothing.
    let mut native =
        crate::store::ClientStore::client(bench.store.as_ref(), &ClientId::new(NATIVE))
            .await
            .unwrap()
            .unwrap();
    native.grant_types.insert(GrantType::ClientCredentials);
    let native = crate::oauth::client_auth::AuthenticatedClient {
        client: std::sync::Arc::new(native),
        method: AuthMethod::None,
    };
    let refused = exchange(&bench.ctx(), &native, client_credentials(None), None).await;
    assert!(matches!(
        refused,
        Err(TokenError::GrantNotAllowed(GrantType::ClientCredentials))
    ));
    assert_eq!(bench.audited(), []);
}
