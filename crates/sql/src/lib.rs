//! # tessera-sql
//!
//! Diesel adapters for Tessera's user repository, session store and denylist.
//! SQLite (bundled, through diesel-async's `SyncConnectionWrapper`) is the
//! embedded default; MySQL/MariaDB joins as a second [`Database`] variant with
//! its own migration set, reusing every query below.
//!
//! Unique constraints in the database decide duplicate registrations; their
//! violations become [`tessera_domain::error::CreateUserError::Duplicate`].

mod audit;
mod changes;
mod clients;
mod codes;
mod db;
mod denylist;
mod factors;
mod group_commit;
mod identifiers;
mod identities;
mod outbox;
mod rows;
mod schema;
mod sessions;
mod users;
mod webhooks;

pub use audit::SqlAudit;
pub use changes::SqlChangeFeed;
pub use clients::SqlClients;
pub use codes::SqlCodes;
pub use db::{Database, DbConfig, DbError, MigrationReport};
pub use denylist::SqlDenylist;
pub use factors::SqlFactors;
pub use identifiers::{BackfillReport, IdentifierIssue, IdentifierKind, backfill_identifiers};
pub use identities::SqlIdentities;
pub use outbox::SqlOutbox;
pub use sessions::SqlSessions;
pub use users::SqlUsers;
pub use webhooks::SqlWebhooks;
