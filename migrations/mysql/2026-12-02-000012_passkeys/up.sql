-- Passkeys (issue 17); mirrors migrations/sqlite column for column. The
-- credential id is base64url (at most 1,366 characters), ASCII so that its
-- unique key fits InnoDB's 3,072-byte limit.
CREATE TABLE passkeys (
    id              VARCHAR(36)   NOT NULL PRIMARY KEY,
    user_id         BIGINT        NOT NULL,
    credential_id   VARCHAR(1366) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name            VARCHAR(255)  NOT NULL,
    credential      TEXT          NOT NULL,
    backup_eligible BOOLEAN       NOT NULL,
    created_at      DATETIME(6)   NOT NULL,
    last_used_at    DATETIME(6)   NULL,
    UNIQUE KEY passkeys_credential_key (credential_id),
    KEY passkeys_user_key (user_id),
    CONSTRAINT passkeys_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- A WebAuthn ceremony's state rides in a code's binding: a few KiB.
ALTER TABLE verification_codes MODIFY binding TEXT NULL;
