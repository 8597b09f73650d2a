-- Tessera as an OpenID Provider (issue 18); mirrors migrations/sqlite
-- column for column.
CREATE TABLE oauth_clients (
    id                        VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    name                      VARCHAR(400) NOT NULL,
    kind                      VARCHAR(16)  NOT NULL,
    secret_fingerprint        VARCHAR(128) NULL,
    jwks                      TEXT         NULL,
    redirect_uris             TEXT         NOT NULL,
    post_logout_redirect_uris TEXT         NOT NULL,
    scopes                    VARCHAR(255) NOT NULL,
    grant_types               VARCHAR(255) NOT NULL,
    first_party               BOOLEAN      NOT NULL,
    disabled                  BOOLEAN      NOT NULL,
    created_at                DATETIME(6)  NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE oauth_consents (
    user_id    BIGINT      NOT NULL,
    client_id  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    scopes     VARCHAR(255) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (user_id, client_id),
    CONSTRAINT oauth_consents_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT oauth_consents_client_fk FOREIGN KEY (client_id) REFERENCES oauth_clients (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE oauth_grants (
    session_id VARCHAR(36) NOT NULL PRIMARY KEY,
    client_id  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id    BIGINT      NOT NULL,
    scopes     VARCHAR(255) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    KEY oauth_grants_client_key (client_id),
    CONSTRAINT oauth_grants_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT oauth_grants_client_fk FOREIGN KEY (client_id) REFERENCES oauth_clients (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
-- The client a session was opened for (NULL: the first-party API and pages).
ALTER TABLE sessions ADD COLUMN issued_to VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL;
