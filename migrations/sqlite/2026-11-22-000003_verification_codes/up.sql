-- Verification codes of the embedded default (Redis keeps them when configured).
-- At most one live code per (purpose, recipient); only a keyed fingerprint is stored.
CREATE TABLE verification_codes (
    purpose      TEXT      NOT NULL,
    recipient    TEXT      NOT NULL,
    fingerprint  TEXT      NOT NULL,
    digits       INTEGER   NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    attempts     INTEGER   NOT NULL,
    max_attempts INTEGER   NOT NULL,
    PRIMARY KEY (purpose, recipient)
);
