//! Structured logs: pretty or JSON lines on stderr, each carrying the request's span (method,
//! path, request id). Secrets never reach a log line: request spans hold the path only, and
//! `Authorization`/`Cookie` headers are marked sensitive.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. Call once, from `main`.
///
/// # Errors
/// When a subscriber is already installed or the filter is invalid.
pub fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    // sqlx logs every statement at info; keep it quiet unless asked.
    let filter = EnvFilter::try_new(format!("sqlx=warn,{filter}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let result = match format {
        LogFormat::Pretty => builder.compact().try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))
}
