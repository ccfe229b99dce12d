-- Times are seconds since the Unix epoch; secrets are SHA-256 digests.

CREATE TABLE signing_keys (
    kid                 TEXT    PRIMARY KEY,
    alg                 TEXT    NOT NULL,
    created_at          BIGINT  NOT NULL,
    activates_at        BIGINT  NOT NULL,
    kek_fingerprint     TEXT    NOT NULL,
    wrapped_private_key BYTEA   NOT NULL
);

CREATE TABLE clients (
    id                         TEXT    PRIMARY KEY,
    name                       TEXT    NOT NULL,
    public                     BOOLEAN NOT NULL,
    secret_hash                BYTEA,
    previous_secret_hash       BYTEA,
    previous_secret_expires_at BIGINT,
    redirect_uris              TEXT    NOT NULL,
    grant_types                TEXT    NOT NULL,
    scopes                     TEXT    NOT NULL,
    access_token_ttl           BIGINT  NOT NULL,
    refresh_token_ttl          BIGINT  NOT NULL,
    pkce                       TEXT    NOT NULL,
    id_token_alg               TEXT    NOT NULL,
    partner                    BOOLEAN NOT NULL,
    admin                      BOOLEAN NOT NULL,
    enabled                    BOOLEAN NOT NULL,
    logo_uri                   TEXT,
    homepage_uri               TEXT,
    created_at                 BIGINT  NOT NULL,
    updated_at                 BIGINT  NOT NULL
);

CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT,
    disabled      BOOLEAN NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
