//! `/api/admin/users`: administrators' user management, in `/api/auth`'s
//! error shape. Each route needs a permission of the caller's roles:
//!
//! | route | permission |
//! |---|---|
//! | `GET /api/admin/users?page=&per_page=&q=` | `user:read` |
//! | `GET /api/admin/users/{id}` | `user:read` |
//! | `DELETE /api/admin/users/{id}` | `user:delete` |
//! | `POST /api/admin/users/{id}/disable`, `/enable` | `user:update` |
//! | `POST /api/admin/users/{id}/roles` `{role}` | `role:update` |
//! | `DELETE /api/admin/users/{id}/roles/{role}` | `role:update` |
//! | `POST /api/admin/users/{id}/revoke-sessions` | `session:revoke` |
//! | `GET /api/admin/providers`; `POST`, `DELETE /api/admin/providers/{id}` | `client:manage` (issue 19; `providers.rs`) |
//! | `GET`, `POST /api/admin/webhooks`; `DELETE …/{id}`; `POST …/{id}/disable`, `/enable`; `GET …/{id}/deliveries` | `client:manage` (issue 20; `webhooks.rs`) |
//! | `GET`, `POST /api/admin/clients`; `GET`, `DELETE /api/admin/clients/{id}`; `POST …/{id}/secret`, `/disable`, `/enable` | `client:manage` (issue 18; `clients.rs`) |
//!
//! No token: 401; a token without the permission: 403 (`code: forbidden`,
//! `permission`). Every route but the two reads also refuses, with 403
//! `forbidden` and `reason: outranked`, to change an account whose highest
//! role ranks above the caller's, a `super_admin` account (unless the caller
//! is one), or to grant or take away such a role (issue 12, item 5;
//! `Actor::may_change`).

pub mod clients;
pub mod dto;
mod errors;
pub mod providers;
mod routes;
pub mod webhooks;

pub use errors::AdminError;
pub use routes::{Documented, ROUTES, routes};

/// The tag of these operations in the OpenAPI document.
pub const TAG: &str = "/api/admin";
