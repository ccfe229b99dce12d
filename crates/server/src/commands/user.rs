//! `portcullis user …`.

use std::io::BufRead as _;

use anyhow::Context as _;
use portcullis_core::admin::users;
use portcullis_core::admin::views::user_view;
use portcullis_core::random::{OsRandom, new_secret};
use portcullis_core::store::{BankStore as _, PageRequest, UserStore as _};
use portcullis_proto::Secret;
use portcullis_proto::admin::UserView;

use super::admin::Session;
use crate::cli::UserCommand;
use crate::config::{CommonArgs, Config};

fn print(view: &UserView, json: bool) -> anyhow::Result<()> {
    if json {
        crate::out!("{}", serde_json::to_string_pretty(view)?)?;
        return Ok(());
    }
    crate::out!("id        {}", view.id)?;
    crate::out!("email     {}", view.email)?;
    crate::out!("name      {}", view.name)?;
    crate::out!("disabled  {}", view.disabled)?;
    if let Some(phone) = &view.phone_number {
        let confirmed = if view.phone_number_verified {
            "confirmed"
        } else {
            "unconfirmed"
        };
        crate::out!("phone     {phone} ({confirmed})")?;
    }
    if let Some(address) = &view.address {
        let formatted = portcullis_core::oauth::claims::format_address(address);
        crate::out!("address   {}", formatted.replace('\n', ", "))?;
    }
    for p in &view.profiles {
        crate::out!("profile   {} ({}, {}) kyc {}", p.id, p.kind, p.name, p.kyc)?;
    }
    Ok(())
}

/// Runs a user command.
///
/// # Errors
/// Validation refusals, storage failures.
pub async fn run(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let session = Session::open(config).await?;
    let result = execute(&session, command).await;
    session.close().await;
    result
}

async fn view(session: &Session, target: &str) -> anyhow::Result<UserView> {
    let user = users::find(&session.admin(), target).await?;
    let profiles = session.store.profiles_of(&user.id).await?;
    Ok(user_view(&user, &profiles))
}

async fn execute(session: &Session, command: UserCommand) -> anyhow::Result<()> {
    let admin = session.admin();
    match command {
        UserCommand::Create {
            email,
            name,
            generate_password,
            json,
            ..
        } => {
            let password = if generate_password {
                new_secret(&OsRandom)?
            } else {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("cannot read the password from standard input")?;
                Secret::new(line.trim_end_matches(['\r', '\n']))
            };
            let for_hash = password.clone();
            let prepared = tokio::task::spawn_blocking(move || {
                users::prepare(&OsRandom, &email, &name, &for_hash)
            })
            .await??;
            let user = users::register(&admin, prepared).await?;
            let view = user_view(&user, &[]);
            if json {
                let mut value = serde_json::to_value(&view)?;
                if generate_password {
                    value["password"] = serde_json::Value::String(password.expose().to_owned());
                }
                crate::out!("{}", serde_json::to_string_pretty(&value)?)?;
            } else {
                print(&view, false)?;
                if generate_password {
                    crate::out!("password  {}   (shown once)", password.expose())?;
                }
            }
            Ok(())
        }
        UserCommand::List { json, .. } => {
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            let mut all = Vec::new();
            loop {
                let got = session.store.list_users(&page).await?;
                for user in &got.items {
                    all.push(user_view(user, &session.store.profiles_of(&user.id).await?));
                }
                match got.next {
                    Some(next) => page.after = Some(next),
                    None => break,
                }
            }
            if json {
                crate::out!("{}", serde_json::to_string_pretty(&all)?)?;
            } else {
                crate::out!("{:<38} {:<9} EMAIL", "ID", "DISABLED")?;
                for u in &all {
                    crate::out!("{:<38} {:<9} {}", u.id, u.disabled, u.email)?;
                }
            }
            Ok(())
        }
        UserCommand::Show { user, json, .. } => print(&view(session, &user).await?, json),
        UserCommand::Update {
            user,
            name,
            phone,
            phone_verified,
            street,
            locality,
            region,
            postal_code,
            country,
            clear_address,
            json,
            ..
        } => {
            let current = users::find(&admin, &user).await?;
            // Address options change their parts of the address the user has.
            let parts = [&street, &locality, &region, &postal_code, &country];
            let address = if clear_address {
                Some(None)
            } else if parts.iter().any(|p| p.is_some()) {
                let mut address = current.contact.address.clone().unwrap_or_default();
                for (new, old) in [
                    (street, &mut address.street_address),
                    (locality, &mut address.locality),
                    (region, &mut address.region),
                    (postal_code, &mut address.postal_code),
                    (country, &mut address.country),
                ] {
                    if new.is_some() {
                        *old = new;
                    }
                }
                Some(Some(address))
            } else {
                None
            };
            let changes = users::UserChanges {
                name,
                phone_number: phone.map(|p| Some(p).filter(|p| !p.trim().is_empty())),
                phone_number_verified: phone_verified,
                address,
            };
            let updated = users::update(&admin, current.id.as_str(), changes).await?;
            let profiles = session.store.profiles_of(&updated.id).await?;
            print(&user_view(&updated, &profiles), json)
        }
        UserCommand::Disable { user, .. } => {
            let (user, revoked) = users::disable(&admin, &user).await?;
            crate::out!(
                "disabled {} ({}); {revoked} grant(s) revoked",
                user.email,
                user.id
            )?;
            Ok(())
        }
        UserCommand::RevokeApp {
            user, client_id, ..
        } => {
            let client = portcullis_proto::ClientId::new(client_id);
            let (user, ended) = users::revoke_app(&admin, &user, &client).await?;
            crate::out!(
                "revoked {client} for {} ({}); {} grant(s) revoked, {} code(s) ended",
                user.email,
                user.id,
                ended.grants,
                ended.codes
            )?;
            Ok(())
        }
        UserCommand::SetKyc { target, state, .. } => {
            let state = state.parse().map_err(|_| {
                anyhow::anyhow!("--state must be absent, pending, approved or rejected")
            })?;
            let profile = users::set_kyc(&admin, &target, state).await?;
            crate::out!("profile {} kyc {}", profile.id, profile.kyc)?;
            Ok(())
        }
    }
}

/// The configuration options of a user command.
#[must_use]
pub fn common(command: &UserCommand) -> &CommonArgs {
    match command {
        UserCommand::Create { common, .. }
        | UserCommand::List { common, .. }
        | UserCommand::Show { common, .. }
        | UserCommand::Update { common, .. }
        | UserCommand::Disable { common, .. }
        | UserCommand::RevokeApp { common, .. }
        | UserCommand::SetKyc { common, .. } => common,
    }
}
