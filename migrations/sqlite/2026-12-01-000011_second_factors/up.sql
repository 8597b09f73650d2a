-- Second factors (issue 17). One TOTP factor per account: its secret sealed
-- (XChaCha20-Poly1305 under a key derived from the server secret), NULL
-- confirmed_at while the enrolment waits for its first code, and the last
-- accepted time step (a code is accepted once, RFC 6238 section 5.2).
CREATE TABLE totp_factors (
    user_id        BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret  TEXT      NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    confirmed_at   TIMESTAMP,
    last_used_step BIGINT
);

-- Recovery codes: keyed fingerprints only; used_at set once (single use).
CREATE TABLE recovery_codes (
    user_id     BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    fingerprint TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    PRIMARY KEY (user_id, fingerprint)
);
