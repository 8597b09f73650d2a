-- The change feed (issue 15): every write that changes what an instance may
-- cache (a user's account or roles, a denial) adds a row in the same
-- transaction; every instance and process reads the rows after its cursor
-- to drop its cached copies. AUTOINCREMENT: ids never go back, even once
-- every row has been pruned. Rows older than a few minutes are pruned.
CREATE TABLE cache_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    topic      TEXT      NOT NULL,
    subject    TEXT      NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
CREATE INDEX cache_changes_at_idx ON cache_changes (changed_at);
