-- Second factors (issue 17); mirrors migrations/sqlite column for column.
CREATE TABLE totp_factors (
    user_id        BIGINT       NOT NULL PRIMARY KEY,
    sealed_secret  VARCHAR(255) NOT NULL,
    created_at     DATETIME(6)  NOT NULL,
    confirmed_at   DATETIME(6)  NULL,
    last_used_step BIGINT       NULL,
    CONSTRAINT totp_factors_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE recovery_codes (
    user_id     BIGINT      NOT NULL,
    fingerprint VARCHAR(64) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    used_at     DATETIME(6) NULL,
    PRIMARY KEY (user_id, fingerprint),
    CONSTRAINT recovery_codes_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
