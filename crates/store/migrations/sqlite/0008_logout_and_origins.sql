-- RP-Initiated Logout 1.0 and browser-based clients: where a client may send the browser after
-- logout, and which web origins may call the token, revocation and userinfo endpoints (CORS).
-- Both are JSON arrays of strings, like redirect_uris; existing clients register none.
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN web_origins TEXT NOT NULL DEFAULT '[]';
-- The session a code was issued in, as the ID token's `sid` (OpenID Connect Front- and
-- Back-Channel Logout): RP-initiated logout compares it with the browser's session. Codes
-- issued before this version have none.
ALTER TABLE authorization_codes ADD COLUMN sid TEXT;
