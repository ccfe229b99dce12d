//! `integration`: the Monei Connect guide's app on portcullis-client. See README.md.

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Parser;
use portcullis_example_integration::{Config, app};

/// The Monei Connect guide's app, on portcullis-client.
#[derive(Debug, Parser)]
struct Args {
    /// The Portcullis issuer.
    #[arg(
        long,
        env = "PORTCULLIS_ISSUER",
        default_value = "http://127.0.0.1:8080"
    )]
    issuer: String,
    /// The app's client id (the sandbox's demo app by default).
    #[arg(long, env = "PORTCULLIS_CLIENT_ID", default_value = "demo-app")]
    client_id: String,
    /// The app's client secret (the sandbox prints it on first start).
    #[arg(long, env = "PORTCULLIS_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// Where to listen.
    #[arg(long, env = "LISTEN", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The redirect URI registered for the app (default: this app's /callback on the
    /// loopback address; the sandbox's demo app accepts http://127.0.0.1:<any port>/callback).
    #[arg(long, env = "REDIRECT_URI")]
    redirect_uri: Option<String>,
    /// The scope to ask for.
    #[arg(long, env = "SCOPE", default_value = "profile:read wallet:read")]
    scope: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let redirect_uri = args
        .redirect_uri
        .unwrap_or_else(|| format!("http://{}/callback", args.listen));
    let (router, _) = app(Config {
        issuer: args.issuer.clone(),
        client_id: args.client_id,
        client_secret: args.client_secret,
        redirect_uri,
        scope: args.scope,
    })
    .await
    .with_context(|| format!("cannot reach Portcullis at {}", args.issuer))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!("open http://{}/ in a browser", args.listen);
    axum::serve(listener, router).await?;
    Ok(())
}
