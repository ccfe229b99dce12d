-- Wallet-ownership challenges (Sign-In with Ethereum nonces, EIP-4361): one row per message
-- issued, bound to the user and the profile it was issued for. A proof consumes the row with
-- one conditional UPDATE (consumed_at IS NULL), in the transaction that links the wallet, so
-- a message is used once across nodes. Housekeeping deletes rows past their expiry.
CREATE TABLE wallet_challenges (
    nonce_hash   BYTEA   PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    profile_id   TEXT    NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    chain        TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    issued_at    BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    consumed_at  BIGINT
);
CREATE INDEX wallet_challenges_by_expiry ON wallet_challenges (expires_at);
