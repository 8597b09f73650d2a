-- Tessera schema, MySQL/MariaDB flavour. Mirrors migrations/sqlite column for column.
-- utf8mb4_unicode_ci makes usernames unique without regard to case, as
-- COLLATE NOCASE does in SQLite; emails and phones are stored normalised.

CREATE TABLE users (
    id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    public_id      VARCHAR(36)  NOT NULL,
    username       VARCHAR(50)  NOT NULL,
    email          VARCHAR(254) NOT NULL,
    phone          VARCHAR(32)  NULL,
    password_hash  VARCHAR(255) NOT NULL,
    role           VARCHAR(32)  NOT NULL,
    is_active      BOOLEAN      NOT NULL DEFAULT TRUE,
    email_verified BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at     DATETIME(6)  NOT NULL,
    updated_at     DATETIME(6)  NOT NULL,
    UNIQUE KEY users_public_id_key (public_id),
    UNIQUE KEY users_username_key (username),
    UNIQUE KEY users_email_key (email),
    UNIQUE KEY users_phone_key (phone)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE sessions (
    id                  VARCHAR(36)  NOT NULL PRIMARY KEY,
    user_id             BIGINT       NOT NULL,
    generation          INT          NOT NULL,
    refresh_fingerprint VARCHAR(64)  NOT NULL,
    created_at          DATETIME(6)  NOT NULL,
    last_used_at        DATETIME(6)  NOT NULL,
    rotated_at          DATETIME(6)  NULL,
    expires_at          DATETIME(6)  NOT NULL,
    revoked_at          DATETIME(6)  NULL,
    ip                  VARCHAR(64)  NULL,
    user_agent          VARCHAR(255) NULL,
    KEY sessions_user_idx (user_id, revoked_at),
    CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE revoked_tokens (
    revocation_key VARCHAR(64) NOT NULL PRIMARY KEY,
    expires_at     DATETIME(6) NOT NULL,
    KEY revoked_tokens_expiry_idx (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
