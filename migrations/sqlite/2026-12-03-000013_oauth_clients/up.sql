-- Tessera as an OpenID Provider (issue 18): registered clients, the
-- consents people gave them and the grants (sessions opened for a client).
-- Lists are space-separated (a URI holds no space; scope and grant names none).
CREATE TABLE oauth_clients (
    id                        TEXT PRIMARY KEY NOT NULL,
    name                      TEXT      NOT NULL,
    kind                      TEXT      NOT NULL,
    secret_fingerprint        TEXT,
    jwks                      TEXT,
    redirect_uris             TEXT      NOT NULL,
    post_logout_redirect_uris TEXT      NOT NULL,
    scopes                    TEXT      NOT NULL,
    grant_types               TEXT      NOT NULL,
    first_party               BOOLEAN   NOT NULL,
    disabled                  BOOLEAN   NOT NULL,
    created_at                TIMESTAMP NOT NULL
);
CREATE TABLE oauth_consents (
    user_id    BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT      NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes     TEXT      NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE TABLE oauth_grants (
    session_id TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT      NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id    BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes     TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_grants_client_key ON oauth_grants (client_id);
-- The client a session was opened for (NULL: the first-party API and pages).
ALTER TABLE sessions ADD COLUMN issued_to TEXT;
