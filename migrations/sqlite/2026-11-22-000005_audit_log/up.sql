-- The audit trail: logins, logouts, refresh reuse, password changes and
-- resets, role changes and administrators' actions. Never a secret.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    at         TIMESTAMP NOT NULL,
    kind       TEXT      NOT NULL,
    actor_id   BIGINT,
    subject_id BIGINT,
    identifier TEXT,
    ip         TEXT,
    user_agent TEXT,
    detail     TEXT
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_id, at);
CREATE INDEX audit_log_at_idx ON audit_log (at);
