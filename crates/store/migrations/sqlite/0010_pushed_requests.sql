-- Pushed authorization requests (RFC 9126): the parameters a client pushed, by digest of the
-- request_uri it was given, until redeemed at the authorization endpoint (once) or expired.
-- And whether a client must push its requests.
CREATE TABLE pushed_requests (
    id_hash     BLOB    PRIMARY KEY NOT NULL,
    client_id   TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    params      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX pushed_requests_by_expiry ON pushed_requests (expires_at);
ALTER TABLE clients ADD COLUMN require_pushed_authorization_requests INTEGER NOT NULL DEFAULT 0;
