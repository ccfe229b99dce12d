//! `portcullis client …`.

use portcullis_core::admin::clients;
use portcullis_core::admin::views::{client_changes, client_view, new_client};
use portcullis_core::store::{ClientStore as _, PageRequest};
use portcullis_proto::admin::{ClientView, CreateClient, UpdateClient};

use super::admin::{Session, seconds};
use crate::cli::{ClientCommand, ClientSettingsArgs};
use crate::config::Config;

/// The JWK Set in `path`, if one is named.
fn read_jwks(path: Option<&std::path::Path>) -> anyhow::Result<Option<serde_json::Value>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let jwks = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", path.display()))?;
    Ok(Some(jwks))
}

fn print(view: &ClientView, json: bool) -> anyhow::Result<()> {
    if json {
        crate::out!("{}", serde_json::to_string_pretty(view)?)?;
        return Ok(());
    }
    crate::out!("client_id      {}", view.client_id)?;
    if let Some(secret) = &view.client_secret {
        crate::out!(
            "client_secret  {}   (shown once; only its hash is stored)",
            secret.expose()
        )?;
    }
    if let Some(until) = &view.previous_secret_expires_at {
        crate::out!("old secret     still accepted until {until}")?;
    }
    crate::out!("name           {}", view.name)?;
    crate::out!(
        "type           {}",
        if view.public {
            "public"
        } else {
            "confidential"
        }
    )?;
    crate::out!("redirect_uris  {}", view.redirect_uris.join(" "))?;
    if !view.post_logout_redirect_uris.is_empty() {
        crate::out!(
            "post_logout    {}",
            view.post_logout_redirect_uris.join(" ")
        )?;
    }
    if !view.web_origins.is_empty() {
        crate::out!("web_origins    {}", view.web_origins.join(" "))?;
    }
    if view.dpop_bound_access_tokens {
        crate::out!("dpop           every token request needs a DPoP proof")?;
    }
    if let Some(keys) = view
        .jwks
        .as_ref()
        .and_then(|j| j.get("keys"))
        .and_then(|k| k.as_array())
    {
        crate::out!(
            "auth           private_key_jwt with {} registered key(s)",
            keys.len()
        )?;
    }
    if view.require_pushed_authorization_requests {
        crate::out!("par            authorization requests must be pushed first")?;
    }
    crate::out!("grant_types    {}", view.grant_types.join(" "))?;
    crate::out!("scope          {}", view.scope)?;
    crate::out!("pkce           {}", view.pkce)?;
    crate::out!(
        "lifetimes      access {}s, refresh {}s",
        view.access_token_ttl,
        view.refresh_token_ttl
    )?;
    crate::out!("id_token_alg   {}", view.id_token_alg)?;
    crate::out!(
        "flags          partner={} admin={} enabled={}",
        view.partner,
        view.admin,
        view.enabled
    )?;
    Ok(())
}

/// A repeatable option's list on update: the values given replace the list, `clear` empties
/// it, neither leaves it.
fn replace_list(values: Vec<String>, clear: bool) -> Option<Vec<String>> {
    if clear {
        Some(Vec::new())
    } else {
        (!values.is_empty()).then_some(values)
    }
}

/// Runs a client command.
///
/// # Errors
/// Validation refusals (with their message), storage failures.
pub async fn run(config: &Config, command: ClientCommand) -> anyhow::Result<()> {
    let session = Session::open(config).await?;
    let result = execute(&session, command).await;
    session.close().await;
    result
}

async fn execute(session: &Session, command: ClientCommand) -> anyhow::Result<()> {
    let admin = session.admin();
    match command {
        ClientCommand::Create {
            settings,
            id,
            public,
            partner,
            admin: is_admin,
            json,
            ..
        } => {
            let request = CreateClient {
                client_id: id,
                name: settings
                    .name
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("--name is required"))?,
                public,
                redirect_uris: settings.redirect_uris.clone(),
                post_logout_redirect_uris: settings.post_logout_redirect_uris.clone(),
                web_origins: settings.web_origins.clone(),
                dpop_bound_access_tokens: settings.dpop_bound_access_tokens.unwrap_or(false),
                require_pushed_authorization_requests: settings
                    .require_pushed_authorization_requests
                    .unwrap_or(false),
                jwks: read_jwks(settings.jwks_file.as_deref())?,
                grant_types: settings.grant_types.clone(),
                scope: settings.scope.clone(),
                access_token_ttl: seconds(
                    settings.access_token_ttl.as_deref(),
                    "access-token-ttl",
                )?,
                refresh_token_ttl: seconds(
                    settings.refresh_token_ttl.as_deref(),
                    "refresh-token-ttl",
                )?,
                pkce: settings.pkce.clone(),
                acknowledge_public_without_pkce: settings.i_understand_public_client_without_pkce,
                id_token_alg: settings.id_token_alg.clone(),
                partner,
                admin: is_admin,
                logo_uri: settings.logo_uri.clone(),
                homepage_uri: settings.homepage_uri.clone(),
            };
            let (client, secret) = clients::register(&admin, new_client(request)?).await?;
            print(&client_view(&client, secret), json)
        }
        ClientCommand::List { json, .. } => {
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            let mut all = Vec::new();
            loop {
                let got = session.store.list_clients(&page).await?;
                all.extend(got.items.iter().map(|c| client_view(c, None)));
                match got.next {
                    Some(next) => page.after = Some(next),
                    None => break,
                }
            }
            if json {
                crate::out!("{}", serde_json::to_string_pretty(&all)?)?;
            } else {
                crate::out!("{:<38} {:<13} {:<8} NAME", "CLIENT_ID", "TYPE", "ENABLED")?;
                for c in &all {
                    let kind = if c.public { "public" } else { "confidential" };
                    crate::out!("{:<38} {kind:<13} {:<8} {}", c.client_id, c.enabled, c.name)?;
                }
            }
            Ok(())
        }
        ClientCommand::Show { id, json, .. } => {
            print(&client_view(&clients::get(&admin, &id).await?, None), json)
        }
        ClientCommand::Update {
            id,
            settings,
            partner,
            admin: is_admin,
            enable,
            disable,
            clear_post_logout_redirect_uris,
            clear_web_origins,
            json,
            ..
        } => {
            let ClientSettingsArgs {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                web_origins,
                scope,
                grant_types,
                access_token_ttl,
                refresh_token_ttl,
                pkce,
                i_understand_public_client_without_pkce,
                id_token_alg,
                logo_uri,
                homepage_uri,
                dpop_bound_access_tokens,
                require_pushed_authorization_requests,
                jwks_file,
            } = settings;
            let request = UpdateClient {
                name,
                redirect_uris: (!redirect_uris.is_empty()).then_some(redirect_uris),
                post_logout_redirect_uris: replace_list(
                    post_logout_redirect_uris,
                    clear_post_logout_redirect_uris,
                ),
                web_origins: replace_list(web_origins, clear_web_origins),
                dpop_bound_access_tokens,
                require_pushed_authorization_requests,
                jwks: read_jwks(jwks_file.as_deref())?,
                grant_types: (!grant_types.is_empty()).then_some(grant_types),
                scope,
                access_token_ttl: seconds(access_token_ttl.as_deref(), "access-token-ttl")?,
                refresh_token_ttl: seconds(refresh_token_ttl.as_deref(), "refresh-token-ttl")?,
                pkce,
                acknowledge_public_without_pkce: i_understand_public_client_without_pkce,
                id_token_alg,
                partner,
                admin: is_admin,
                enabled: if enable {
                    Some(true)
                } else if disable {
                    Some(false)
                } else {
                    None
                },
                logo_uri,
                homepage_uri,
            };
            let client = clients::update(&admin, &id, client_changes(request)?).await?;
            print(&client_view(&client, None), json)
        }
        ClientCommand::Delete { id, .. } => {
            clients::delete(&admin, &id).await?;
            crate::out!("deleted client {id}")?;
            Ok(())
        }
        ClientCommand::RotateSecret {
            id, grace, json, ..
        } => {
            let grace = seconds(grace.as_deref(), "grace")?;
            let (client, secret) = clients::rotate_secret(&admin, &id, grace).await?;
            print(&client_view(&client, Some(secret)), json)
        }
    }
}

/// The configuration options of a client command.
#[must_use]
pub fn common(command: &ClientCommand) -> &crate::config::CommonArgs {
    match command {
        ClientCommand::Create { common, .. }
        | ClientCommand::List { common, .. }
        | ClientCommand::Show { common, .. }
        | ClientCommand::Update { common, .. }
        | ClientCommand::Delete { common, .. }
        | ClientCommand::RotateSecret { common, .. } => common,
    }
}
