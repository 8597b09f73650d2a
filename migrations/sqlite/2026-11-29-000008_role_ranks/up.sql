-- Role ranks (issue 12, item 5): an administrator may change only accounts
-- and roles ranking no higher than their own highest role; super_admin is
-- changed only by a super_admin whatever its rank. Mirrors
-- tessera_domain::permissions::RoleCatalogue::seeded.

ALTER TABLE roles ADD COLUMN rank INTEGER NOT NULL DEFAULT 0;

UPDATE roles SET rank = 100 WHERE name = 'super_admin';
UPDATE roles SET rank = 50 WHERE name = 'admin';
