-- Roles, their permissions, and the roles granted to users besides their
-- primary role (users.role). Mirrors migrations/sqlite.

CREATE TABLE roles (
    name        VARCHAR(32)  NOT NULL PRIMARY KEY,
    description VARCHAR(255) NOT NULL DEFAULT ''
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE role_permissions (
    role_name  VARCHAR(32) NOT NULL,
    permission VARCHAR(64) NOT NULL,
    PRIMARY KEY (role_name, permission),
    CONSTRAINT role_permissions_role_fk FOREIGN KEY (role_name) REFERENCES roles (name) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE user_roles (
    user_id    BIGINT      NOT NULL,
    role_name  VARCHAR(32) NOT NULL,
    granted_at DATETIME(6) NOT NULL,
    PRIMARY KEY (user_id, role_name),
    CONSTRAINT user_roles_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

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
