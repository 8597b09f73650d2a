-- Mirrors migrations/sqlite (see there). The canonical forms compare exactly
-- (utf8mb4_bin): the table's utf8mb4_unicode_ci would also fold accents and
-- widths, which is not the rule. E-mail and phone hold canonical forms too.
ALTER TABLE users
    DROP INDEX users_username_key,
    ADD COLUMN username_canonical VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    ADD COLUMN identifiers_version INT NOT NULL DEFAULT 0,
    MODIFY email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    MODIFY phone VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    ADD UNIQUE KEY users_username_canonical_key (username_canonical);
