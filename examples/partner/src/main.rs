//! `partner`: lists the profiles that granted this partner access. See README.md.

#![allow(clippy::print_stdout)] // Printing the list is this program's job.

use anyhow::Context as _;
use clap::Parser;
use portcullis_example_partner::{client, granted_profiles};

/// Lists, with client credentials, the profiles that granted this partner access.
#[derive(Debug, Parser)]
struct Args {
    /// The Portcullis issuer.
    #[arg(
        long,
        env = "PORTCULLIS_ISSUER",
        default_value = "http://127.0.0.1:8080"
    )]
    issuer: String,
    /// The partner's client id (the sandbox's demo app is a partner).
    #[arg(long, env = "PORTCULLIS_CLIENT_ID", default_value = "demo-app")]
    client_id: String,
    /// The partner's client secret.
    #[arg(long, env = "PORTCULLIS_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// The scope to ask for (default: every scope the client may have).
    #[arg(long, env = "SCOPE")]
    scope: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = client(&args.issuer, &args.client_id, &args.client_secret)
        .await
        .with_context(|| format!("cannot reach Portcullis at {}", args.issuer))?;
    let granted = granted_profiles(&client, args.scope.as_deref()).await?;
    println!(
        "{} profile(s) granted access to {}",
        granted.profiles.len(),
        granted.client_id
    );
    for profile in &granted.profiles {
        println!(
            "{}  {:<9}  kyc {:<9}  {}",
            profile.id, profile.kind, profile.kyc.state, profile.name
        );
    }
    Ok(())
}
