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

CREATE TABLE grants (
    id          TEXT    PRIMARY KEY NOT NULL,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id   TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL,
    profile_id  TEXT,
    auth_time   INTEGER     NOT NULL,
    created_at  INTEGER     NOT NULL,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX grants_by_user_client ON grants (user_id, client_id);
CREATE INDEX grants_by_client ON grants (client_id);

CREATE TABLE refresh_tokens (
    token_hash  BLOB     PRIMARY KEY NOT NULL,
    grant_id    TEXT    NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id   TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    created_at  INTEGER     NOT NULL,
    expires_at  INTEGER     NOT NULL,
    rotated_at  INTEGER
) STRICT;
CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);

CREATE TABLE authorization_codes (
    code_hash             BLOB     PRIMARY KEY NOT NULL,
    client_id             TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id               TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri          TEXT    NOT NULL,
    redirect_uri_given    INTEGER  NOT NULL,
    scope                 TEXT    NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    nonce                 TEXT,
    profile_id            TEXT,
    auth_time             INTEGER     NOT NULL,
    created_at            INTEGER     NOT NULL,
    expires_at            INTEGER     NOT NULL,
    redeemed_at           INTEGER,
    grant_id              TEXT
) STRICT;
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);

CREATE TABLE consents (
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id   TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL,
    profile_id  TEXT,
    created_at  INTEGER     NOT NULL,
    updated_at  INTEGER     NOT NULL,
    PRIMARY KEY (user_id, client_id)
) STRICT;

CREATE TABLE sessions (
    id_hash     BLOB     PRIMARY KEY NOT NULL,
    user_id     TEXT    REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT    NOT NULL,
    auth_time   INTEGER,
    created_at  INTEGER     NOT NULL,
    expires_at  INTEGER     NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE authorization_requests (
    id                    TEXT    PRIMARY KEY NOT NULL,
    client_id             TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    redirect_uri          TEXT    NOT NULL,
    redirect_uri_given    INTEGER  NOT NULL,
    scope                 TEXT    NOT NULL,
    state                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    nonce                 TEXT,
    prompt                TEXT    NOT NULL,
    max_age               INTEGER,
    created_at            INTEGER     NOT NULL,
    expires_at            INTEGER     NOT NULL
) STRICT;
CREATE INDEX authorization_requests_by_expiry ON authorization_requests (expires_at);

CREATE TABLE revoked_access_tokens (
    jti         TEXT    PRIMARY KEY NOT NULL,
    expires_at  INTEGER     NOT NULL
) STRICT;

CREATE TABLE rate_limits (
    key          TEXT   PRIMARY KEY NOT NULL,
    window_start INTEGER    NOT NULL,
    count        INTEGER    NOT NULL
) STRICT;
