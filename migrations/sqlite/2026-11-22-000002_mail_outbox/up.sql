-- Mail waiting to be sent, written in the same transaction as the change that causes it.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    recipient       TEXT      NOT NULL,
    subject         TEXT      NOT NULL,
    body_text       TEXT      NOT NULL,
    body_html       TEXT      NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    attempts        INTEGER   NOT NULL DEFAULT 0,
    last_error      TEXT,
    sent_at         TIMESTAMP
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (sent_at, next_attempt_at);
