-- The change feed (issue 15). Mirrors migrations/sqlite. Ids are allocated
-- when a transaction inserts, not when it commits: readers re-read missing
-- ids for a while (tessera_sql::SqlChangeFeed).
CREATE TABLE cache_changes (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    topic      VARCHAR(8)  NOT NULL,
    subject    VARCHAR(64) NOT NULL,
    changed_at DATETIME(6) NOT NULL,
    KEY cache_changes_at_idx (changed_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
