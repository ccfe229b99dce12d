-- The audit trail: append-only, ordered by seq. Details never hold secrets or tokens.
CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    client_id  TEXT,
    user_id    TEXT,
    ip         TEXT,
    outcome    TEXT    NOT NULL,
    detail     TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_events_by_at ON audit_events (at);
CREATE INDEX audit_events_by_client ON audit_events (client_id, seq);
CREATE INDEX audit_events_by_user ON audit_events (user_id, seq);
