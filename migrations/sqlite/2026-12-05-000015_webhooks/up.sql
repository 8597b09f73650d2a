-- Webhooks (issue 20): the endpoints, the events queued in the transaction of
-- the change that causes them, one delivery per endpoint and event, and each
-- delivery's attempts. Events name the account by id without a foreign key:
-- user.deleted outlives the account.
CREATE TABLE webhook_endpoints (
    id          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    url         TEXT      NOT NULL,
    event_types TEXT      NOT NULL,
    description TEXT      NOT NULL DEFAULT '',
    enabled     BOOLEAN   NOT NULL,
    secret      TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE TABLE webhook_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    event_type  TEXT      NOT NULL,
    user_id     BIGINT    NOT NULL,
    detail      TEXT,
    occurred_at TIMESTAMP NOT NULL,
    dispatched  BOOLEAN   NOT NULL DEFAULT FALSE
);
CREATE INDEX webhook_events_queued_idx ON webhook_events (dispatched, id);
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    endpoint_id     BIGINT    NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        BIGINT    NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    user_id         BIGINT    NOT NULL,
    state           TEXT      NOT NULL,
    attempts        INTEGER   NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    leased_until    TIMESTAMP
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, user_id, state, event_id);
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    delivery_id  BIGINT    NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    status       INTEGER,
    error        TEXT,
    duration_ms  BIGINT    NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id);
