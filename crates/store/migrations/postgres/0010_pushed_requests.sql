-- Pushed authorization requests (RFC 9126): the parameters a client pushed, by digest of the
-- request_uri it was given, until redeemed at the authorization endpoint (once) or expired.
-- And whether a client must push its requests.
CREATE TABLE pushed_requests (
    id_hash     BYTEA   PRIMARY KEY,
    client_id   TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    params      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX pushed_requests_by_expiry ON pushed_requests (expires_at);
ALTER TABLE clients ADD COLUMN require_pushed_authorization_requests BOOLEAN NOT NULL DEFAULT FALSE;
