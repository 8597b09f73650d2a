-- Passkeys (issue 17): WebAuthn credentials as webauthn-rs serialises them
-- (public key, signature counter, flags; no secret), the credential id
-- (base64url) unique across accounts (WebAuthn section 7.1 step 26).
CREATE TABLE passkeys (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   TEXT      NOT NULL,
    name            TEXT      NOT NULL,
    credential      TEXT      NOT NULL,
    backup_eligible BOOLEAN   NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    last_used_at    TIMESTAMP
);
CREATE UNIQUE INDEX passkeys_credential_key ON passkeys (credential_id);
CREATE INDEX passkeys_user_key ON passkeys (user_id);
