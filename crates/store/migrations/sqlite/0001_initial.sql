-- Times are seconds since the Unix epoch; booleans are 0/1; secrets are SHA-256 digests.

CREATE TABLE signing_keys (
    kid                 TEXT    PRIMARY KEY NOT NULL,
    alg                 TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    activates_at        INTEGER NOT NULL,
    kek_fingerprint     TEXT    NOT NULL,
    wrapped_private_key BLOB    NOT NULL
) STRICT;

CREATE TABLE clients (
    id                         TEXT    PRIMARY KEY NOT NULL,
    name                       TEXT    NOT NULL,
    public                     INTEGER NOT NULL,
    secret_hash                BLOB,
    previous_secret_hash       BLOB,
    previous_secret_expires_at INTEGER,
    redirect_uris              TEXT    NOT NULL,
    grant_types                TEXT    NOT NULL,
    scopes                     TEXT    NOT NULL,
    access_token_ttl           INTEGER NOT NULL,
    refresh_token_ttl          INTEGER NOT NULL,
    pkce                       TEXT    NOT NULL,
    id_token_alg               TEXT    NOT NULL,
    partner                    INTEGER NOT NULL,
    admin                      INTEGER NOT NULL,
    enabled                    INTEGER NOT NULL,
    logo_uri                   TEXT,
    homepage_uri               TEXT,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id            TEXT    PRIMARY KEY NOT NULL,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT,
    disabled      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
