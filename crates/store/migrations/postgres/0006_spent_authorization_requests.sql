-- Pending authorization requests are held by the browser, sealed, and no longer stored (an
-- anonymous request writes nothing). What is stored is the id of each request that was
-- answered, until it expires, so that its sealed handle cannot be answered twice.
-- `authorization_requests` stays for nodes of the previous version during a rolling upgrade;
-- housekeeping empties it as its rows expire.
CREATE TABLE spent_authorization_requests (
    id          TEXT    PRIMARY KEY,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX spent_authorization_requests_by_expiry ON spent_authorization_requests (expires_at);
