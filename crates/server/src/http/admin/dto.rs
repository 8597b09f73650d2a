//! `/api/admin`'s bodies (users are shown as `/api/auth` shows them).
//! Request types are schemas only (no `Deserialize`, no `Debug`: never
//! built, so a password cannot reach a log through them); the handlers read
//! the fields one by one (docs/adr/0008).

use serde::Serialize;
use utoipa::ToSchema;

use crate::http::modern::dto::{User, UserWithPermissions};

/// `GET /api/admin/users`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<User>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub pages: u64,
}

/// `GET /api/admin/users/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminUser {
    pub user: UserWithPermissions,
    /// The account's second factors (issue 17).
    pub mfa: crate::http::modern::factors::Factors,
}

#[derive(ToSchema)]
pub struct RoleRequest {
    /// A role name: 1 to 32 of `a-z`, `0-9`, `_` (trimmed, lower-cased).
    #[schema(min_length = 1, max_length = 32, pattern = r"^\s*[A-Za-z0-9_]+\s*$")]
    pub role: String,
}

/// `DELETE /api/admin/users/{id}/mfa`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FactorsReset {
    pub message: String,
    pub msg: String,
    /// Whether the user had a factor.
    pub removed: bool,
}
