-- The audit trail. Mirrors migrations/sqlite.
CREATE TABLE audit_log (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at         DATETIME(6)  NOT NULL,
    kind       VARCHAR(32)  NOT NULL,
    actor_id   BIGINT       NULL,
    subject_id BIGINT       NULL,
    identifier VARCHAR(255) NULL,
    ip         VARCHAR(64)  NULL,
    user_agent VARCHAR(255) NULL,
    detail     VARCHAR(255) NULL,
    KEY audit_log_subject_idx (subject_id, at),
    KEY audit_log_at_idx (at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
