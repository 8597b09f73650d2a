//! The permissions the admin routes require, by name as the `role_permissions`
//! table grants them (the table in this module's parent lists who needs which).

/// Read users: `GET /api/admin/users`, `GET /api/admin/users/{id}`.
pub const USER_READ: &str = "user:read";
/// Delete a user: `DELETE /api/admin/users/{id}`.
pub const USER_DELETE: &str = "user:delete";
/// Disable or enable a user.
pub const USER_UPDATE: &str = "user:update";
/// Grant or revoke a role.
pub const ROLE_UPDATE: &str = "role:update";
/// Revoke every session of a user.
pub const SESSION_REVOKE: &str = "session:revoke";
