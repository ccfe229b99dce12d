//! Domain records as the admin API and the CLI show them, and admin requests read into the
//! domain, so both front ends validate and present alike.

use std::collections::BTreeSet;

use portcullis_proto::admin::{
    AuditView, ClientView, CreateClient, ProfileSummary, UpdateClient, UserView,
};
use portcullis_proto::{ScopeSet, Secret};

use super::clients::{ClientChanges, ClientRuleError, NewClient};
use crate::audit::AuditEvent;
use crate::banking::profile::Profile;
use crate::client::{Client, ClientKind, GrantType, PkcePolicy};
use crate::keys::SigningAlg;
use crate::user::User;

/// A client, with its secret when one was just made.
#[must_use]
pub fn client_view(client: &Client, secret: Option<Secret>) -> ClientView {
    ClientView {
        client_id: client.id.to_string(),
        client_secret: secret,
        previous_secret_expires_at: client
            .secrets
            .previous
            .as_ref()
            .map(|(_, until)| until.to_rfc3339()),
        name: client.name.clone(),
        public: client.kind == ClientKind::Public,
        redirect_uris: client
            .redirect_uris
            .iter()
            .map(ToString::to_string)
            .collect(),
        post_logout_redirect_uris: client
            .post_logout_redirect_uris
            .iter()
            .map(ToString::to_string)
            .collect(),
        web_origins: client.web_origins.iter().map(ToString::to_string).collect(),
        dpop_bound_access_tokens: client.dpop_bound_access_tokens,
        require_pushed_authorization_requests: client.require_pushed_authorization_requests,
        jwks: client.jwks.clone(),
        grant_types: client
            .grant_types
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect(),
        scope: client.scopes.to_string(),
        access_token_ttl: client.access_token_ttl,
        refresh_token_ttl: client.refresh_token_ttl,
        pkce: client.pkce.as_str().to_owned(),
        id_token_alg: client.id_token_alg.as_str().to_owned(),
        partner: client.partner,
        admin: client.admin,
        enabled: client.enabled,
        logo_uri: client.logo_uri.clone(),
        homepage_uri: client.homepage_uri.clone(),
        created_at: client.created_at.to_rfc3339(),
        updated_at: client.updated_at.to_rfc3339(),
    }
}

/// A user with their profiles.
#[must_use]
pub fn user_view(user: &User, profiles: &[Profile]) -> UserView {
    UserView {
        id: user.id.to_string(),
        email: user.email.clone(),
        name: user.name.clone(),
        disabled: user.disabled,
        phone_number: user.contact.phone_number.clone(),
        phone_number_verified: user.contact.phone_number_verified,
        address: user.contact.address.clone(),
        profiles: profiles
            .iter()
            .map(|p| ProfileSummary {
                id: p.id.to_string(),
                kind: p.kind.as_str().to_owned(),
                name: p.name.clone(),
                kyc: p.kyc.as_str().to_owned(),
            })
            .collect(),
        created_at: user.created_at.to_rfc3339(),
    }
}

/// An audit event.
#[must_use]
pub fn audit_view(event: &AuditEvent) -> AuditView {
    AuditView {
        seq: event.seq,
        at: event.at.to_rfc3339(),
        kind: event.kind.as_str().to_owned(),
        actor: event.actor.clone(),
        client_id: event.client_id.as_ref().map(ToString::to_string),
        user_id: event.user_id.as_ref().map(ToString::to_string),
        ip: event.ip.clone(),
        outcome: event.outcome.as_str().to_owned(),
        detail: event.detail.clone(),
    }
}

fn grants(names: &[String]) -> Result<BTreeSet<GrantType>, ClientRuleError> {
    names
        .iter()
        .map(|g| {
            g.parse()
                .map_err(|e: crate::client::UnknownGrantType| ClientRuleError::Field(e.to_string()))
        })
        .collect()
}

fn scope(text: &str) -> Result<ScopeSet, ClientRuleError> {
    ScopeSet::parse(text).map_err(|e| ClientRuleError::Field(format!("scope: {e}")))
}

fn pkce(text: &str) -> Result<PkcePolicy, ClientRuleError> {
    text.parse()
        .map_err(|e: crate::client::UnknownPkcePolicy| ClientRuleError::Field(e.to_string()))
}

fn alg(text: &str) -> Result<SigningAlg, ClientRuleError> {
    text.parse()
        .map_err(|e: crate::keys::alg::UnknownAlg| ClientRuleError::Field(e.to_string()))
}

/// Reads a registration request. Defaults: authorization code with refresh tokens (client
/// credentials with `admin` scope for an admin client), scope
/// [`DEFAULT_CLIENT_SCOPE`](crate::scopes::DEFAULT_CLIENT_SCOPE), PKCE S256, RS256.
///
/// # Errors
/// [`ClientRuleError::Field`] for unknown names; the rules themselves are checked at creation.
pub fn new_client(request: CreateClient) -> Result<NewClient, ClientRuleError> {
    let default_grants: &[GrantType] = if request.admin {
        &[GrantType::ClientCredentials]
    } else {
        &[GrantType::AuthorizationCode, GrantType::RefreshToken]
    };
    let grant_types = if request.grant_types.is_empty() {
        default_grants.iter().copied().collect()
    } else {
        grants(&request.grant_types)?
    };
    let default_scope = if request.admin {
        crate::scopes::ADMIN_SCOPE
    } else {
        crate::scopes::DEFAULT_CLIENT_SCOPE
    };
    Ok(NewClient {
        id: request.client_id,
        name: request.name,
        kind: if request.public {
            ClientKind::Public
        } else {
            ClientKind::Confidential
        },
        redirect_uris: request.redirect_uris,
        post_logout_redirect_uris: request.post_logout_redirect_uris,
        web_origins: request.web_origins,
        dpop_bound_access_tokens: request.dpop_bound_access_tokens,
        require_pushed_authorization_requests: request.require_pushed_authorization_requests,
        jwks: request.jwks,
        grant_types,
        scopes: scope(request.scope.as_deref().unwrap_or(default_scope))?,
        access_token_ttl: request.access_token_ttl,
        refresh_token_ttl: request.refresh_token_ttl,
        pkce: request
            .pkce
            .as_deref()
            .map(pkce)
            .transpose()?
            .unwrap_or_default(),
        acknowledge_public_without_pkce: request.acknowledge_public_without_pkce,
        id_token_alg: request
            .id_token_alg
            .as_deref()
            .map(alg)
            .transpose()?
            .unwrap_or(SigningAlg::Rs256),
        partner: request.partner,
        admin: request.admin,
        logo_uri: request.logo_uri,
        homepage_uri: request.homepage_uri,
    })
}

/// Reads an update request. An empty logo or homepage removes it.
///
/// # Errors
/// [`ClientRuleError::Field`] for unknown names.
pub fn client_changes(request: UpdateClient) -> Result<ClientChanges, ClientRuleError> {
    let removable = |v: Option<String>| v.map(|s| Some(s).filter(|s| !s.is_empty()));
    Ok(ClientChanges {
        name: request.name,
        redirect_uris: request.redirect_uris,
        post_logout_redirect_uris: request.post_logout_redirect_uris,
        web_origins: request.web_origins,
        dpop_bound_access_tokens: request.dpop_bound_access_tokens,
        require_pushed_authorization_requests: request.require_pushed_authorization_requests,
        jwks: request.jwks,
        grant_types: request.grant_types.as_deref().map(grants).transpose()?,
        scopes: request.scope.as_deref().map(scope).transpose()?,
        access_token_ttl: request.access_token_ttl,
        refresh_token_ttl: request.refresh_token_ttl,
        pkce: request.pkce.as_deref().map(pkce).transpose()?,
        acknowledge_public_without_pkce: request.acknowledge_public_without_pkce,
        id_token_alg: request.id_token_alg.as_deref().map(alg).transpose()?,
        partner: request.partner,
        admin: request.admin,
        enabled: request.enabled,
        logo_uri: removable(request.logo_uri),
        homepage_uri: removable(request.homepage_uri),
    })
}
