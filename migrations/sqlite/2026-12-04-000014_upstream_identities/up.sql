-- Signing in through upstream identity providers (issue 19): the console's
-- providers (one JSON document each, its shape the adapter's) and the
-- identities linked to accounts.
CREATE TABLE upstream_providers (
    id         TEXT PRIMARY KEY NOT NULL,
    settings   TEXT      NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE upstream_identities (
    provider     TEXT      NOT NULL,
    subject      TEXT      NOT NULL,
    user_id      BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email        TEXT,
    linked_at    TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX upstream_identities_user_key ON upstream_identities (user_id);
