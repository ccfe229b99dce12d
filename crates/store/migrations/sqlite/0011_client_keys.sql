-- private_key_jwt (RFC 7523): the JWK Set a client registered; it authenticates with
-- assertions signed by one of its keys. NULL for clients that use a secret or none.
ALTER TABLE clients ADD COLUMN jwks TEXT;
