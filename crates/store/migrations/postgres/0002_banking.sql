-- The sandbox banking platform: profiles (with KYC), wallets proven by signature, IBANs,
-- balances in integer minor units, and orders. A balance changes only in the transaction
-- that processes an order, so it always equals the sum of its processed orders.

CREATE TABLE profiles (
    id          TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    kyc_state   TEXT    NOT NULL,
    created_at  BIGINT     NOT NULL,
    updated_at  BIGINT     NOT NULL
);
CREATE INDEX profiles_by_user ON profiles (user_id);

CREATE TABLE wallets (
    id          TEXT    PRIMARY KEY,
    profile_id  TEXT    NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    chain       TEXT    NOT NULL,
    address     TEXT    NOT NULL,
    created_at  BIGINT     NOT NULL,
    UNIQUE (chain, address)
);
CREATE INDEX wallets_by_profile ON wallets (profile_id);

CREATE TABLE ibans (
    iban        TEXT    PRIMARY KEY,
    profile_id  TEXT    NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    wallet_id   TEXT    NOT NULL UNIQUE REFERENCES wallets (id) ON DELETE CASCADE,
    created_at  BIGINT     NOT NULL
);
CREATE INDEX ibans_by_profile ON ibans (profile_id);

CREATE TABLE balances (
    profile_id  TEXT    NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    currency    TEXT    NOT NULL,
    amount      BIGINT     NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (profile_id, currency)
);

CREATE TABLE orders (
    id               TEXT    PRIMARY KEY,
    profile_id       TEXT    NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    client_id        TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    currency         TEXT    NOT NULL,
    amount           BIGINT     NOT NULL CHECK (amount > 0),
    counterpart_iban TEXT,
    memo             TEXT,
    state            TEXT    NOT NULL,
    reason           TEXT,
    idempotency_key  TEXT    NOT NULL,
    request_hash     BYTEA     NOT NULL,
    created_at       BIGINT     NOT NULL,
    updated_at       BIGINT     NOT NULL,
    UNIQUE (client_id, profile_id, idempotency_key)
);
CREATE INDEX orders_by_profile ON orders (profile_id, id);

