-- How and when a session's holder authenticated (issue 14). Mirrors
-- migrations/sqlite.
ALTER TABLE sessions ADD COLUMN amr VARCHAR(64) NOT NULL DEFAULT 'pwd';
ALTER TABLE sessions ADD COLUMN auth_time DATETIME(6) NULL;
