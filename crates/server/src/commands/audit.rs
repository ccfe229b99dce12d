//! `portcullis audit`.

use portcullis_core::admin::views::audit_view;
use portcullis_core::audit::{AuditFilter, AuditKind};
use portcullis_core::store::AuditStore as _;
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, UserId};

use super::admin::Session;
use crate::config::Config;

/// The filters of `portcullis audit`, as given.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Event kind.
    pub kind: Option<String>,
    /// Client id.
    pub client: Option<String>,
    /// User id.
    pub user: Option<String>,
    /// Start time.
    pub since: Option<String>,
    /// End time.
    pub until: Option<String>,
    /// Cursor.
    pub after: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// Parses RFC 3339 or seconds since the epoch.
///
/// # Errors
/// When the text is neither.
pub fn parse_time(text: &str) -> Result<UnixTime, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(UnixTime(seconds));
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| UnixTime(t.unix_timestamp()))
        .map_err(|_| format!("{text:?} is not an RFC 3339 time or a number of seconds"))
}

impl AuditQuery {
    /// The store's filter.
    ///
    /// # Errors
    /// An unknown kind or an unreadable time.
    pub fn filter(&self) -> Result<AuditFilter, String> {
        Ok(AuditFilter {
            kind: self
                .kind
                .as_deref()
                .map(|k| AuditKind::parse(k).ok_or_else(|| format!("unknown event kind {k:?}")))
                .transpose()?,
            client_id: self.client.clone().map(ClientId::new),
            user_id: self.user.clone().map(UserId::new),
            since: self.since.as_deref().map(parse_time).transpose()?,
            until: self.until.as_deref().map(parse_time).transpose()?,
            after_seq: self.after,
            limit: self.limit.clamp(1, 500),
        })
    }
}

/// Prints matching events.
///
/// # Errors
/// Bad filters, storage failures.
pub async fn run(config: &Config, query: AuditQuery, json: bool) -> anyhow::Result<()> {
    let filter = query.filter().map_err(anyhow::Error::msg)?;
    let session = Session::open(config).await?;
    let events = session.store.audit_events(&filter).await;
    session.close().await;
    let events: Vec<_> = events?.iter().map(audit_view).collect();
    if json {
        crate::out!("{}", serde_json::to_string_pretty(&events)?)?;
        return Ok(());
    }
    for e in &events {
        crate::out!(
            "{:>6} {} {:<22} {:<8} actor={} client={} user={} ip={} {}",
            e.seq,
            e.at,
            e.kind,
            e.outcome,
            e.actor,
            e.client_id.as_deref().unwrap_or("-"),
            e.user_id.as_deref().unwrap_or("-"),
            e.ip.as_deref().unwrap_or("-"),
            if e.detail.is_null() {
                String::new()
            } else {
                e.detail.to_string()
            }
        )?;
    }
    Ok(())
}
