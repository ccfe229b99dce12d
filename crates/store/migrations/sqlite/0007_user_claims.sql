-- What the OpenID Connect `phone` and `address` scopes release (OIDC Core §5.1): a phone number
-- in E.164 form, whether the platform confirmed it, and a postal address as the JSON object of
-- its parts (street_address, locality, region, postal_code, country). Unset for existing users.
ALTER TABLE users ADD COLUMN phone_number TEXT;
ALTER TABLE users ADD COLUMN phone_number_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN address TEXT;
