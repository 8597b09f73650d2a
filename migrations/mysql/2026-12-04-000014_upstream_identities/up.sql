-- Signing in through upstream identity providers (issue 19); mirrors
-- migrations/sqlite column for column. A provider's settings are one JSON
-- document (its shape is the adapter's, crates/sql/src/identities.rs).
CREATE TABLE upstream_providers (
    id         VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    settings   TEXT        NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE upstream_identities (
    provider     VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    subject      VARCHAR(255) NOT NULL,
    user_id      BIGINT       NOT NULL,
    email        VARCHAR(320) NULL,
    linked_at    DATETIME(6)  NOT NULL,
    last_used_at DATETIME(6)  NULL,
    PRIMARY KEY (provider, subject),
    KEY upstream_identities_user_key (user_id),
    CONSTRAINT upstream_identities_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
