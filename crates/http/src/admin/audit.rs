use axum::Json;
use axum::extract::State;
use portcullis_core::admin::views::audit_view;
use portcullis_core::audit::{AuditFilter, AuditKind};
use portcullis_core::time::UnixTime;
use portcullis_proto::admin::{AuditView, Page};
use portcullis_proto::{ClientId, UserId};
use serde::Deserialize;

use super::AdminCaller;
use crate::error::ApiError;
use crate::input::ApiQuery;
use crate::state::AppState;

/// The filters of `GET /admin/v1/audit`.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    kind: Option<String>,
    client_id: Option<String>,
    user_id: Option<String>,
    /// Seconds since the epoch.
    since: Option<i64>,
    /// Seconds since the epoch.
    until: Option<i64>,
    /// The `seq` of the last event seen.
    cursor: Option<i64>,
    limit: Option<u32>,
}

/// `GET /admin/v1/audit`: events oldest first; `next_cursor` continues after the last.
pub async fn list(
    State(state): State<AppState>,
    _caller: AdminCaller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditView>>, ApiError> {
    let kind = query
        .kind
        .as_deref()
        .map(|k| {
            AuditKind::parse(k)
                .ok_or_else(|| ApiError::bad_request(format!("unknown event kind {k:?}")))
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let filter = AuditFilter {
        kind,
        client_id: query.client_id.map(ClientId::new),
        user_id: query.user_id.map(UserId::new),
        since: query.since.map(UnixTime),
        until: query.until.map(UnixTime),
        after_seq: query.cursor,
        limit,
    };
    let events = state.services.store.audit_events(&filter).await?;
    let next_cursor = (events.len() == usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| events.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(Json(Page {
        items: events.iter().map(audit_view).collect(),
        next_cursor,
    }))
}
