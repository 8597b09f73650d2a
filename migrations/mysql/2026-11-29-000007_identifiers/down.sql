ALTER TABLE users
    DROP INDEX users_username_canonical_key,
    DROP COLUMN identifiers_version,
    DROP COLUMN username_canonical,
    MODIFY email VARCHAR(254) NOT NULL,
    MODIFY phone VARCHAR(32) NULL,
    ADD UNIQUE KEY users_username_key (username);
