-- Tessera schema, SQLite flavour (the embedded default).
-- The MySQL/MariaDB set under migrations/mysql mirrors these tables column for column.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    public_id      TEXT      NOT NULL,
    username       TEXT      NOT NULL COLLATE NOCASE,
    email          TEXT      NOT NULL,
    phone          TEXT,
    password_hash  TEXT      NOT NULL,
    role           TEXT      NOT NULL,
    is_active      BOOLEAN   NOT NULL DEFAULT 1,
    email_verified BOOLEAN   NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_public_id_key ON users (public_id);
CREATE UNIQUE INDEX users_username_key  ON users (username COLLATE NOCASE);
CREATE UNIQUE INDEX users_email_key     ON users (email);
CREATE UNIQUE INDEX users_phone_key     ON users (phone);

-- One row per login: the session and its refresh-token family. Only a
-- fingerprint of the live refresh token is stored.
CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY NOT NULL,
    user_id             BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    generation          INTEGER   NOT NULL,
    refresh_fingerprint TEXT      NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    last_used_at        TIMESTAMP NOT NULL,
    rotated_at          TIMESTAMP,
    expires_at          TIMESTAMP NOT NULL,
    revoked_at          TIMESTAMP,
    ip                  TEXT,
    user_agent          TEXT
);
CREATE INDEX sessions_user_idx ON sessions (user_id, revoked_at);

-- Denied access tokens ('t:<jti>') and sessions ('s:<sid>') until their tokens expire.
CREATE TABLE revoked_tokens (
    revocation_key TEXT PRIMARY KEY NOT NULL,
    expires_at     TIMESTAMP NOT NULL
);
CREATE INDEX revoked_tokens_expiry_idx ON revoked_tokens (expires_at);
