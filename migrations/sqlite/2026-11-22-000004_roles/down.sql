DROP TABLE user_roles;
DROP TABLE role_permissions;
DROP TABLE roles;
