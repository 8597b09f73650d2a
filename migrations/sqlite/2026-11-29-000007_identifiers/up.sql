-- Issue 12 items 4 and 9: identifiers compared in one canonical form.
-- Usernames are unique by their RFC 8265 UsernameCaseMapped form, which SQL
-- cannot compute: the canonical column is filled by Tessera (new rows on
-- insert, existing rows by the backfill that `tessera migrate` and the
-- start-up migration run after this file). `username` keeps the display form.
-- A row whose canonical username collides with an earlier one keeps NULL here
-- (NULLs do not collide): it stays reachable by e-mail and phone, and the
-- backfill reports it. `identifiers_version` = 1 once a row's username,
-- e-mail and phone have been canonicalised (phones in E.164).
DROP INDEX users_username_key;
ALTER TABLE users ADD COLUMN username_canonical TEXT;
ALTER TABLE users ADD COLUMN identifiers_version INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX users_username_canonical_key ON users (username_canonical);
