-- Account deletion with a grace period (issue 20): one row per account whose
-- holder asked for its deletion; signing in removes the row, the worker
-- deletes the account once due_at has passed.
CREATE TABLE account_deletions (
    user_id      BIGINT    PRIMARY KEY NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    due_at       TIMESTAMP NOT NULL
);
CREATE INDEX account_deletions_due_idx ON account_deletions (due_at);
