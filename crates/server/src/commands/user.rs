//! `portcullis user …`.

#![allow(clippy::print_stdout)] // The command's output.

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
        println!("{}", serde_json::to_string_pretty(view)?);
        return Ok(());
    }
    println!("id        {}", view.id);
    println!("email     {}", view.email);
    println!("name      {}", view.name);
    println!("disabled  {}", view.disabled);
    for p in &view.profiles {
        println!("profile   {} ({}, {}) kyc {}", p.id, p.kind, p.name, p.kyc);
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
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print(&view, false)?;
                if generate_password {
                    println!("password  {}   (shown once)", password.expose());
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
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                println!("{:<38} {:<9} EMAIL", "ID", "DISABLED");
                for u in &all {
                    println!("{:<38} {:<9} {}", u.id, u.disabled, u.email);
                }
            }
            Ok(())
        }
        UserCommand::Show { user, json, .. } => print(&view(session, &user).await?, json),
        UserCommand::Disable { user, .. } => {
            let (user, revoked) = users::disable(&admin, &user).await?;
            println!(
                "disabled {} ({}); {revoked} grant(s) revoked",
                user.email, user.id
            );
            Ok(())
        }
        UserCommand::SetKyc { target, state, .. } => {
            let state = state.parse().map_err(|_| {
                anyhow::anyhow!("--state must be absent, pending, approved or rejected")
            })?;
            let profile = users::set_kyc(&admin, &target, state).await?;
            println!("profile {} kyc {}", profile.id, profile.kyc);
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
        | UserCommand::Disable { common, .. }
        | UserCommand::SetKyc { common, .. } => common,
    }
}
