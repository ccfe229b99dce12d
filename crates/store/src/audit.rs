use async_trait::async_trait;
use portcullis_core::audit::{AuditEvent, AuditFilter, AuditKind, Outcome};
use portcullis_core::store::{AuditStore, StoreError};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, UserId};

use crate::rows::corrupt;
use crate::{SqlStore, db_error, on_reader, on_writer};

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: i64,
    kind: String,
    actor: String,
    client_id: Option<String>,
    user_id: Option<String>,
    ip: Option<String>,
    outcome: String,
    detail: String,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<Self, Self::Error> {
        Ok(Self {
            seq: row.seq,
            at: UnixTime(row.at),
            kind: AuditKind::parse(&row.kind)
                .ok_or_else(|| corrupt("audit_events.kind", &row.kind))?,
            actor: row.actor,
            client_id: row.client_id.map(ClientId::new),
            user_id: row.user_id.map(UserId::new),
            ip: row.ip,
            outcome: if row.outcome == "success" {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            detail: serde_json::from_str(&row.detail)
                .map_err(|e| corrupt("audit_events.detail", e))?,
        })
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO audit_events (at, kind, actor, client_id, user_id, ip, outcome, \
            detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        if events.is_empty() {
            return Ok(());
        }
        on_writer!(self, |pool| async {
            let mut tx = pool.begin().await?;
            for event in events {
                sqlx::query(SQL)
                    .bind(event.at.0)
                    .bind(event.kind.as_str())
                    .bind(&event.actor)
                    .bind(event.client_id.as_ref().map(ClientId::as_str))
                    .bind(event.user_id.as_ref().map(UserId::as_str))
                    .bind(event.ip.as_deref())
                    .bind(event.outcome.as_str())
                    .bind(event.detail.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await)
        .map_err(db_error)
    }

    async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        // Every filter is bound; an absent one is a condition that always holds.
        const SQL: &str = "SELECT seq, at, kind, actor, client_id, user_id, ip, outcome, detail \
            FROM audit_events WHERE seq > $1 AND ($2 = '' OR kind = $2) \
            AND ($3 = '' OR client_id = $3) AND ($4 = '' OR user_id = $4) \
            AND at >= $5 AND at < $6 ORDER BY seq LIMIT $7";
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, AuditRow>(SQL)
            .bind(filter.after_seq.unwrap_or(0))
            .bind(filter.kind.map_or("", AuditKind::as_str))
            .bind(filter.client_id.as_ref().map_or("", ClientId::as_str))
            .bind(filter.user_id.as_ref().map_or("", UserId::as_str))
            .bind(filter.since.map_or(i64::MIN, |t| t.0))
            .bind(filter.until.map_or(i64::MAX, |t| t.0))
            .bind(i64::from(filter.limit.clamp(1, 500)))
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        rows.into_iter().map(AuditEvent::try_from).collect()
    }
}
