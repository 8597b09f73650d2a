-- Roles, their permissions, and the roles granted to users besides their
-- primary role (users.role). super_admin holds every permission whatever
-- role_permissions says; the rows below are the catalogue Tessera ships
-- (tessera_domain::permissions::RoleCatalogue::seeded).

CREATE TABLE roles (
    name        TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE role_permissions (
    role_name  TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_name, permission)
);

CREATE TABLE user_roles (
    user_id    BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_name  TEXT      NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, role_name)
);

INSERT INTO roles (name, description) VALUES
    ('super_admin', 'Every permission'),
    ('admin', 'Reads and updates users, revokes sessions'),
    ('pharmacy', 'Seed 003 role'),
    ('supplier', 'Seed 003 role'),
    ('logistics', 'Seed 003 role'),
    ('regulator', 'Seed 003 role'),
    ('unauth', 'Seed 003 default role'),
    ('user', 'Ordinary user (seed 001)');

INSERT INTO role_permissions (role_name, permission) VALUES
    ('super_admin', 'profile:read'),
    ('super_admin', 'profile:update'),
    ('super_admin', 'user:read'),
    ('super_admin', 'user:create'),
    ('super_admin', 'user:update'),
    ('super_admin', 'user:delete'),
    ('super_admin', 'role:read'),
    ('super_admin', 'role:update'),
    ('super_admin', 'session:revoke'),
    ('admin', 'profile:read'),
    ('admin', 'profile:update'),
    ('admin', 'user:read'),
    ('admin', 'user:update'),
    ('admin', 'role:read'),
    ('admin', 'session:revoke'),
    ('pharmacy', 'profile:read'),
    ('pharmacy', 'profile:update'),
    ('supplier', 'profile:read'),
    ('supplier', 'profile:update'),
    ('logistics', 'profile:read'),
    ('logistics', 'profile:update'),
    ('regulator', 'profile:read'),
    ('regulator', 'profile:update'),
    ('unauth', 'profile:read'),
    ('unauth', 'profile:update'),
    ('user', 'profile:read'),
    ('user', 'profile:update');
