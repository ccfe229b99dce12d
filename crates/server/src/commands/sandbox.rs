//! `portcullis sandbox …`.

use anyhow::Context as _;
use portcullis_core::admin::users;
use portcullis_core::banking::accounts::{BankingSettings, Credit};
use portcullis_core::banking::order::Currency;

use super::admin::Session;
use crate::cli::SandboxCommand;
use crate::config::{CommonArgs, Config};

/// Runs a sandbox command.
///
/// # Errors
/// Funding off, a bad amount, an unknown profile, storage failures.
pub async fn run(config: &Config, command: SandboxCommand) -> anyhow::Result<()> {
    let session = Session::open(config).await?;
    let result = execute(config, &session, command).await;
    session.close().await;
    result
}

async fn execute(
    config: &Config,
    session: &Session,
    command: SandboxCommand,
) -> anyhow::Result<()> {
    match command {
        SandboxCommand::Fund {
            target,
            amount,
            currency,
            memo,
            from_iban,
            ..
        } => {
            let currency: Currency = currency
                .to_ascii_lowercase()
                .parse()
                .map_err(|_| anyhow::anyhow!("--currency must be eur, usd, gbp or isk"))?;
            let minor = currency.parse_amount(&amount).with_context(|| {
                format!(
                    "--amount must be a positive number with at most {} decimals, e.g. 250.00",
                    currency.decimals()
                )
            })?;
            // Core refuses when funding is off (not a sandbox).
            let settings = BankingSettings {
                funding: config.sandbox_funding,
                ..BankingSettings::default()
            };
            let credit = Credit {
                currency,
                amount: minor,
                from_iban,
                memo,
            };
            let (order, _) = users::fund(&session.admin(), settings, &target, credit, None).await?;
            crate::out!(
                "credited {} {} to profile {} (order {}, {})",
                currency.format_amount(order.amount),
                currency.as_str().to_ascii_uppercase(),
                order.profile_id,
                order.id,
                order.state
            )?;
            Ok(())
        }
    }
}

/// The configuration options of a sandbox command.
#[must_use]
pub fn common(command: &SandboxCommand) -> &CommonArgs {
    match command {
        SandboxCommand::Fund { common, .. } => common,
    }
}
