-- Account deletion with a grace period (issue 20); mirrors migrations/sqlite.
CREATE TABLE account_deletions (
    user_id      BIGINT      NOT NULL PRIMARY KEY,
    requested_at DATETIME(6) NOT NULL,
    due_at       DATETIME(6) NOT NULL,
    KEY account_deletions_due_idx (due_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
