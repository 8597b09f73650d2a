-- Role ranks (issue 12, item 5). Mirrors migrations/sqlite. `rank` is a
-- reserved word in MySQL 8 (the window function): always quote it.

ALTER TABLE roles ADD COLUMN `rank` INT NOT NULL DEFAULT 0;

UPDATE roles SET `rank` = 100 WHERE name = 'super_admin';
UPDATE roles SET `rank` = 50 WHERE name = 'admin';
