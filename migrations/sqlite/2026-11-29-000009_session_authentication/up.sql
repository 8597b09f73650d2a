-- How and when a session's holder authenticated (issue 14): RFC 8176
-- authentication methods joined by spaces, and the time of the credential
-- check. Sessions opened before this column read as a password login at
-- their creation time.
ALTER TABLE sessions ADD COLUMN amr VARCHAR(64) NOT NULL DEFAULT 'pwd';
ALTER TABLE sessions ADD COLUMN auth_time TIMESTAMP NULL;
