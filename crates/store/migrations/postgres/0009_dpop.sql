-- DPoP (RFC 9449): the key a code was bound to by `dpop_jkt`, the key a public client's
-- refresh token is bound to, and whether a client must present a proof for every token.
-- `spent_jtis` remembers each proof's `jti` (per key) until its `iat` window closes: a
-- conditional insert, so a proof replayed to any node is refused.
ALTER TABLE authorization_codes ADD COLUMN dpop_jkt TEXT;
ALTER TABLE refresh_tokens ADD COLUMN jkt TEXT;
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE spent_jtis (
    id          TEXT    PRIMARY KEY,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX spent_jtis_by_expiry ON spent_jtis (expires_at);
