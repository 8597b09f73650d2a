-- Webhooks (issue 20); mirrors migrations/sqlite column for column. Events
-- name the account by id without a foreign key: user.deleted outlives it.
CREATE TABLE webhook_endpoints (
    id          BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    url         VARCHAR(2000) NOT NULL,
    event_types VARCHAR(1000) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    description VARCHAR(200)  NOT NULL DEFAULT '',
    enabled     BOOLEAN       NOT NULL,
    secret      VARCHAR(100)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at  DATETIME(6)   NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE webhook_events (
    id          BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_type  VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id     BIGINT      NOT NULL,
    detail      VARCHAR(64) NULL,
    occurred_at DATETIME(6) NOT NULL,
    dispatched  BOOLEAN     NOT NULL DEFAULT FALSE,
    KEY webhook_events_queued_idx (dispatched, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE webhook_deliveries (
    id              BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    endpoint_id     BIGINT      NOT NULL,
    event_id        BIGINT      NOT NULL,
    user_id         BIGINT      NOT NULL,
    state           VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    attempts        INT         NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6) NOT NULL,
    leased_until    DATETIME(6) NULL,
    KEY webhook_deliveries_due_idx (state, next_attempt_at),
    KEY webhook_deliveries_order_idx (endpoint_id, user_id, state, event_id),
    CONSTRAINT webhook_deliveries_endpoint_fk FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    CONSTRAINT webhook_deliveries_event_fk FOREIGN KEY (event_id) REFERENCES webhook_events (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE webhook_attempts (
    id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    delivery_id  BIGINT       NOT NULL,
    attempted_at DATETIME(6)  NOT NULL,
    status       INT          NULL,
    error        VARCHAR(200) NULL,
    duration_ms  BIGINT       NOT NULL,
    KEY webhook_attempts_delivery_idx (delivery_id),
    CONSTRAINT webhook_attempts_delivery_fk FOREIGN KEY (delivery_id) REFERENCES webhook_deliveries (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
