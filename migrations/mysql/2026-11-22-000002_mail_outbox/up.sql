-- Mail waiting to be sent, written in the same transaction as the change that causes it.
CREATE TABLE mail_outbox (
    id              BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    recipient       VARCHAR(254)  NOT NULL,
    subject         VARCHAR(998)  NOT NULL,
    body_text       MEDIUMTEXT    NOT NULL,
    body_html       MEDIUMTEXT    NOT NULL,
    created_at      DATETIME(6)   NOT NULL,
    next_attempt_at DATETIME(6)   NOT NULL,
    locked_until    DATETIME(6)   NULL,
    attempts        INT           NOT NULL DEFAULT 0,
    last_error      VARCHAR(1000) NULL,
    sent_at         DATETIME(6)   NULL,
    KEY mail_outbox_due_idx (sent_at, next_attempt_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
