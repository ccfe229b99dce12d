//! `resource-server`: a third-party API protected by Portcullis tokens. See README.md.

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Parser;

/// A third-party API that accepts Portcullis access tokens.
#[derive(Debug, Parser)]
struct Args {
    /// The Portcullis issuer whose tokens are accepted.
    #[arg(
        long,
        env = "PORTCULLIS_ISSUER",
        default_value = "http://127.0.0.1:8080"
    )]
    issuer: String,
    /// The audience tokens must name (default: the issuer, Portcullis's default `aud`).
    #[arg(long, env = "PORTCULLIS_AUDIENCE")]
    audience: Option<String>,
    /// Where to listen.
    #[arg(long, env = "LISTEN", default_value = "127.0.0.1:3001")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let router = portcullis_example_resource_server::app(&args.issuer, args.audience.as_deref())
        .await
        .with_context(|| format!("cannot read the keys of {}", args.issuer))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!("listening on http://{}", args.listen);
    axum::serve(listener, router).await?;
    Ok(())
}
