-- Verification codes when no Redis is configured.
CREATE TABLE verification_codes (
    purpose      VARCHAR(32)  NOT NULL,
    recipient    VARCHAR(254) NOT NULL,
    fingerprint  VARCHAR(128) NOT NULL,
    digits       INT          NOT NULL,
    expires_at   DATETIME(6)  NOT NULL,
    attempts     INT          NOT NULL,
    max_attempts INT          NOT NULL,
    PRIMARY KEY (purpose, recipient)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
