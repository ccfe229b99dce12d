//! `portcullis-loadgen`: drives one scenario against one server for a bounded time with a fixed
//! number of keep-alive connections, and prints one JSON line: requests (or flows) per second,
//! latency percentiles and errors.
//!
//! Only loopback targets are accepted: this tool is for the benchmark suite, not for load
//! against other machines.

#![allow(clippy::print_stdout)] // The result line is the program's output.

mod conn;
mod scenarios;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;

/// Command-line options.
#[derive(Debug, Clone, Parser)]
#[command(name = "portcullis-loadgen")]
pub struct Options {
    /// Scenario: client-credentials, introspect, resource, order, anonymous-authorize, refresh,
    /// code-flow, oidc-client-credentials, oidc-refresh, oidc-code-flow.
    #[arg(long)]
    pub scenario: String,
    /// Base URL of the server (loopback only), e.g. http://127.0.0.1:8080
    #[arg(long)]
    pub target: String,
    /// Client id.
    #[arg(long, default_value = "bench")]
    pub client_id: String,
    /// Client secret.
    #[arg(long, default_value = "")]
    pub client_secret: String,
    /// Redirect URI registered for the client (code-flow scenarios).
    #[arg(long, default_value = "http://127.0.0.1/cb")]
    pub redirect_uri: String,
    /// Scope to ask for.
    #[arg(long, default_value = "")]
    pub scope: String,
    /// Login email (code-flow, refresh).
    #[arg(long, default_value = "bench@example.com")]
    pub email: String,
    /// Login password.
    #[arg(long, default_value = "bench password 1234")]
    pub password: String,
    /// Token path, for servers with another layout.
    #[arg(long, default_value = "/oauth/token")]
    pub token_path: String,
    /// A P-256 private key (PKCS #8 DER) the client registered, for private_key_jwt; with
    /// `--scenario write-client-key`, where to write a new one (its JWK Set goes to stdout).
    #[arg(long, default_value = "")]
    pub client_key: String,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Measured duration, seconds.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Warm-up before measuring, seconds.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Requests per second over all connections (0: as fast as the server answers). A paced
    /// load stands for a given visitor rate rather than for all the machine can send.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
}

/// What one worker measured.
#[derive(Debug, Default)]
pub struct Tally {
    /// Completed operations inside the measured window.
    pub done: u64,
    /// Failed operations inside the window.
    pub errors: u64,
    /// Latencies of completed operations, microseconds.
    pub latencies: Vec<u32>,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    if options.scenario == "write-client-key" {
        return scenarios::write_client_key(&options.client_key);
    }
    let url = url::Url::parse(&options.target).context("--target is not a URL")?;
    let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Domain("localhost")));
    if !loopback {
        bail!("the load generator only targets loopback addresses");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(options))
}

async fn run(options: Options) -> anyhow::Result<()> {
    let options = Arc::new(options);
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::with_capacity(options.connections);
    for worker in 0..options.connections {
        let (options, measuring, stop) = (
            Arc::clone(&options),
            Arc::clone(&measuring),
            Arc::clone(&stop),
        );
        workers.push(tokio::spawn(async move {
            scenarios::run(worker, &options, &measuring, &stop).await
        }));
    }
    tokio::time::sleep(Duration::from_secs(options.warmup)).await;
    measuring.store(true, Ordering::SeqCst);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(options.duration)).await;
    measuring.store(false, Ordering::SeqCst);
    let elapsed = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let mut total = Tally::default();
    for worker in workers {
        match worker.await? {
            Ok(tally) => {
                total.done += tally.done;
                total.errors += tally.errors;
                total.latencies.extend(tally.latencies);
                total.first_error = total.first_error.or(tally.first_error);
            }
            Err(error) => {
                total.errors += 1;
                total.first_error = total.first_error.or(Some(format!("{error:#}")));
            }
        }
    }
    total.latencies.sort_unstable();
    #[allow(clippy::cast_precision_loss)]
    let rate = total.done as f64 / elapsed.as_secs_f64();
    let line = serde_json::json!({
        "scenario": options.scenario,
        "connections": options.connections,
        "seconds": elapsed.as_secs_f64(),
        "completed": total.done,
        "errors": total.errors,
        "per_second": rate,
        "p50_us": percentile(&total.latencies, 0.50),
        "p99_us": percentile(&total.latencies, 0.99),
        "first_error": total.first_error,
    });
    println!("{line}");
    Ok(())
}
