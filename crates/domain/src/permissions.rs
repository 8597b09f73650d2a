//! Roles and the permissions they grant.
//!
//! Until roles and permissions move into the database (the dialects issue),
//! this fixed catalogue decides: `super_admin` holds every permission, every
//! other role may read and update its own profile.

use crate::newtypes::RoleName;

/// Every permission Tessera knows.
pub const ALL_PERMISSIONS: &[&str] = &[
    "profile:read",
    "profile:update",
    "user:read",
    "user:create",
    "user:update",
    "user:delete",
    "role:read",
    "role:update",
    "session:revoke",
];

/// What every ordinary role may do.
pub const BASE_PERMISSIONS: &[&str] = &["profile:read", "profile:update"];

/// The roles seed 003 lets a user pick at registration.
pub const DEFAULT_REGISTRABLE_ROLES: &[&str] =
    &["pharmacy", "supplier", "logistics", "regulator", "unauth"];

/// The role given when registration names none (seed 003's default).
pub const DEFAULT_ROLE: &str = "unauth";

/// The permissions `role` grants.
#[must_use]
pub fn permissions_for(role: &RoleName) -> Vec<String> {
    let list = if role.is_super_admin() {
        ALL_PERMISSIONS
    } else {
        BASE_PERMISSIONS
    };
    list.iter().map(|p| (*p).to_owned()).collect()
}
