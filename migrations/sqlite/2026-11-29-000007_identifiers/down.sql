DROP INDEX users_username_canonical_key;
ALTER TABLE users DROP COLUMN identifiers_version;
ALTER TABLE users DROP COLUMN username_canonical;
CREATE UNIQUE INDEX users_username_key ON users (username COLLATE NOCASE);
