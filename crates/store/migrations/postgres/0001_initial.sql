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

CREATE TABLE grants (
    id          TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id   TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL,
    profile_id  TEXT,
    auth_time   BIGINT     NOT NULL,
    created_at  BIGINT     NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX grants_by_user_client ON grants (user_id, client_id);
CREATE INDEX grants_by_client ON grants (client_id);

CREATE TABLE refresh_tokens (
    token_hash  BYTEA     PRIMARY KEY,
    grant_id    TEXT    NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id   TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    created_at  BIGINT     NOT NULL,
    expires_at  BIGINT     NOT NULL,
    rotated_at  BIGINT
);
CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);

CREATE TABLE authorization_codes (
    code_hash             BYTEA     PRIMARY KEY,
    client_id             TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id               TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri          TEXT    NOT NULL,
    redirect_uri_given    BOOLEAN  NOT NULL,
    scope                 TEXT    NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    nonce                 TEXT,
    profile_id            TEXT,
    auth_time             BIGINT     NOT NULL,
    created_at            BIGINT     NOT NULL,
    expires_at            BIGINT     NOT NULL,
    redeemed_at           BIGINT,
    grant_id              TEXT
);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);

CREATE TABLE consents (
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id   TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL,
    profile_id  TEXT,
    created_at  BIGINT     NOT NULL,
    updated_at  BIGINT     NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE sessions (
    id_hash     BYTEA     PRIMARY KEY,
    user_id     TEXT    REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT    NOT NULL,
    auth_time   BIGINT,
    created_at  BIGINT     NOT NULL,
    expires_at  BIGINT     NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE authorization_requests (
    id                    TEXT    PRIMARY KEY,
    client_id             TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    redirect_uri          TEXT    NOT NULL,
    redirect_uri_given    BOOLEAN  NOT NULL,
    scope                 TEXT    NOT NULL,
    state                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    nonce                 TEXT,
    prompt                TEXT    NOT NULL,
    max_age               BIGINT,
    created_at            BIGINT     NOT NULL,
    expires_at            BIGINT     NOT NULL
);
CREATE INDEX authorization_requests_by_expiry ON authorization_requests (expires_at);

CREATE TABLE revoked_access_tokens (
    jti         TEXT    PRIMARY KEY,
    expires_at  BIGINT     NOT NULL
);

CREATE TABLE rate_limits (
    key          TEXT   PRIMARY KEY,
    window_start BIGINT    NOT NULL,
    count        BIGINT    NOT NULL
);
