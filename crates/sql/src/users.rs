use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use tessera_domain::error::{CreateUserError, StoreError};
use tessera_domain::model::UserOrder;
use tessera_domain::model::{
    Change, NewUser, PasswordHash, PendingEvent, UniqueField, User, UserId, UserPage, UserQuery,
};
use tessera_domain::model::{ContactChange, RoleCatalogue};
use tessera_domain::ports::{OutgoingMail, UserDirectory, UserRepository};
use tessera_domain::values::{Login, RoleName};

use crate::changes::record_change;
use crate::db::{Database, unavailable, with_conn};
use crate::outbox::new_row;
use crate::rows::{NewUserRow, UserRow, naive};
use crate::schema::{
    account_deletions, audit_log, mail_outbox, oauth_consents, oauth_grants, passkeys,
    recovery_codes, role_permissions, roles, sessions, totp_factors, upstream_identities,
    user_roles, users, verification_codes,
};
use crate::webhooks::queue_events;

/// `row` as a user holding its primary role and `granted` (in grant order).
/// Inside a transaction on `$c`: touches user `$id`'s `updated_at` (writing
/// first takes the row lock on MySQL, the database lock on SQLite, so
/// concurrent grants and revokes serialise), then reads its primary role;
/// `None` when the user does not exist.
macro_rules! locked_primary_role {
    ($c:expr, $id:expr, $at:expr) => {{
        let found = diesel::update(users::table.find($id.0))
            .set(users::updated_at.eq(naive($at)))
            .execute($c)
            .await?;
        if found == 0 {
            None
        } else {
            Some(
                users::table
                    .find($id.0)
                    .select(users::role)
                    .first::<String>($c)
                    .await?,
            )
        }
    }};
}

fn with_roles(row: UserRow, granted: Vec<String>) -> Result<User, StoreError> {
    let mut user = User::try_from(row)?;
    user.roles = User::role_list(&user.role, granted.into_iter().map(RoleName::from_stored));
    Ok(user)
}

/// A `LIKE` pattern that matches `needle` literally anywhere (escape `\`).
fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Removes, in the open transaction `$conn`, everything kept about the
/// account `$id` besides its row (issue 20, "Delete my account") — with
/// the mail and codes to its address `$email` (read before the row goes) —
/// and strips
/// its audit entries to their time, kind and ids: the entries it made, and
/// those about it that no administrator made (a failed sign-in's IP is the
/// account's business, an administrator's is the trail's).
/// The address of the account `$id`, read in the open transaction `$conn`.
macro_rules! address_of {
    ($conn:expr, $id:expr) => {
        users::table
            .find($id.0)
            .select(users::email)
            .first::<String>($conn)
            .await
            .optional()
    };
}

macro_rules! remove_account_data {
    ($conn:expr, $id:expr, $email:expr) => {{
        let id: i64 = $id.0;
        let email: Option<String> = $email;
        async {
            if let Some(email) = &email {
                // Mail to the address, sent or waiting, and its codes:
                // they hold the username, codes and links.
                diesel::delete(mail_outbox::table.filter(mail_outbox::recipient.eq(email)))
                    .execute($conn)
                    .await?;
                diesel::delete(
                    verification_codes::table.filter(verification_codes::recipient.eq(email)),
                )
                .execute($conn)
                .await?;
            }
            diesel::delete(user_roles::table.filter(user_roles::user_id.eq(id)))
                .execute($conn)
                .await?;
            diesel::delete(sessions::table.filter(sessions::user_id.eq(id)))
                .execute($conn)
                .await?;
            diesel::delete(totp_factors::table.filter(totp_factors::user_id.eq(id)))
                .execute($conn)
                .await?;
            diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(id)))
                .execute($conn)
                .await?;
            diesel::delete(passkeys::table.filter(passkeys::user_id.eq(id)))
                .execute($conn)
                .await?;
            diesel::delete(oauth_consents::table.filter(oauth_consents::user_id.eq(id)))
                .execute($conn)
                .await?;
            diesel::delete(oauth_grants::table.filter(oauth_grants::user_id.eq(id)))
                .execute($conn)
                .await?;
            diesel::delete(upstream_identities::table.filter(upstream_identities::user_id.eq(id)))
                .execute($conn)
                .await?;
            diesel::delete(account_deletions::table.find(id))
                .execute($conn)
                .await?;
            diesel::update(
                audit_log::table.filter(
                    audit_log::actor_id.eq(id).or(audit_log::subject_id
                        .eq(id)
                        .and(audit_log::actor_id.is_null())),
                ),
            )
            .set((
                audit_log::identifier.eq(None::<String>),
                audit_log::ip.eq(None::<String>),
                audit_log::user_agent.eq(None::<String>),
                audit_log::detail.eq(None::<String>),
            ))
            .execute($conn)
            .await?;
            Ok::<(), DieselError>(())
        }
        .await
    }};
}

/// Users in the `users` table.
#[derive(Debug, Clone)]
pub struct SqlUsers {
    db: Database,
}

impl SqlUsers {
    /// Users stored in `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Adds a role to the catalogue (tables `roles` and `role_permissions`)
    /// with its rank and permissions, in one transaction: how an operator
    /// defines a custom role. Running instances see it within
    /// `CATALOGUE_TTL_SECS` (30 s).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails, the role exists already included.
    pub async fn define_role(
        &self,
        name: &RoleName,
        rank: i32,
        permissions: &[&str],
    ) -> Result<(), StoreError> {
        let name = name.as_str().to_owned();
        let perms: Vec<(String, String)> = permissions
            .iter()
            .map(|p| (name.clone(), (*p).to_owned()))
            .collect();
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                diesel::insert_into(roles::table)
                    .values((roles::name.eq(&name), roles::description.eq(""), roles::rank.eq(rank)))
                    .execute(c)
                    .await?;
                for (role, permission) in &perms {
                    diesel::insert_into(role_permissions::table)
                        .values((role_permissions::role_name.eq(role), role_permissions::permission.eq(permission)))
                        .execute(c)
                        .await?;
                }
                Ok(())
            })
            .await
            .map_err(unavailable)
        })
    }
}

/// Which unique column a violation names. SQLite says `UNIQUE constraint
/// failed: users.email`; MySQL says `Duplicate entry '…' for key 'users_email_key'`
/// (the entry itself is skipped: it is user data and may contain any word).
fn violated_field(message: &str, constraint: Option<&str>) -> Option<UniqueField> {
    let named =
        constraint.unwrap_or_else(|| message.rsplit_once("for key").map_or(message, |(_, k)| k));
    [
        ("username", UniqueField::Username),
        ("email", UniqueField::Email),
        ("phone", UniqueField::Phone),
        ("public_id", UniqueField::PublicId),
    ]
    .into_iter()
    .find(|(col, _)| named.contains(col))
    .map(|(_, f)| f)
}

fn create_error(e: DieselError) -> CreateUserError {
    if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &e
        && let Some(field) = violated_field(info.message(), info.constraint_name())
    {
        return CreateUserError::Duplicate(field);
    }
    CreateUserError::Store(unavailable(e))
}

impl UserRepository for SqlUsers {
    async fn create(
        &self,
        user: NewUser,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> Result<User, CreateUserError> {
        let public_id = user.public_id.to_string();
        let queued = mail.map(|m| new_row(m, user.created_at));
        with_conn!(write &self.db, conn => {
            let row: UserRow = conn
                .transaction(async |c| -> Result<_, DieselError> {
                    diesel::insert_into(users::table).values(NewUserRow::from(&user)).execute(c).await?;
                    if let Some(q) = queued.clone() {
                        diesel::insert_into(mail_outbox::table).values(q).execute(c).await?;
                    }
                    let row: UserRow = users::table.filter(users::public_id.eq(&public_id)).select(UserRow::as_select()).first(c).await?;
                    queue_events!(c, UserId(row.id()), events)?;
                    Ok(row)
                })
                .await
                .map_err(create_error)?;
            Ok(User::try_from(row)?)
        })
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        with_conn!(&self.db, conn => {
            let row = users::table
                .find(id.0)
                .select(UserRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(unavailable)?;
            let Some(row) = row else { return Ok(None) };
            let granted = user_roles::table
                .filter(user_roles::user_id.eq(id.0))
                .order((user_roles::granted_at, user_roles::role_name))
                .select(user_roles::role_name)
                .load::<String>(conn)
                .await
                .map_err(unavailable)?;
            with_roles(row, granted).map(Some)
        })
    }

    async fn mark_email_verified(
        &self,
        id: UserId,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<bool, DieselError> {
                let changed = diesel::update(users::table.find(id.0).filter(users::email_verified.eq(false)))
                    .set((users::email_verified.eq(true), users::updated_at.eq(naive(at))))
                    .execute(c)
                    .await?;
                if changed == 1 {
                    record_change!(c, Change::User(id), at)?;
                    queue_events!(c, id, events)?;
                }
                Ok(changed == 1)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn change_contact(
        &self,
        id: UserId,
        change: &ContactChange,
        expected: Option<&ContactChange>,
        at: DateTime<Utc>,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> Result<bool, CreateUserError> {
        let queued = mail.map(|m| new_row(m, at));
        let change = change.clone();
        let expected = expected.cloned();
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<bool, DieselError> {
                let target = users::table.find(id.0);
                let now = naive(at);
                // The expected value is compared in the UPDATE itself: a
                // concurrent change committed first makes it touch nothing.
                let changed = match (&change, &expected) {
                    (ContactChange::Email(e), None) => {
                        diesel::update(target)
                            .set((users::email.eq(e.as_str()), users::email_verified.eq(true), users::updated_at.eq(now)))
                            .execute(c)
                            .await?
                    }
                    (ContactChange::Email(e), Some(ContactChange::Email(old))) => {
                        diesel::update(target.filter(users::email.eq(old.as_str())))
                            .set((users::email.eq(e.as_str()), users::email_verified.eq(true), users::updated_at.eq(now)))
                            .execute(c)
                            .await?
                    }
                    (ContactChange::Phone(p), None) => {
                        diesel::update(target)
                            .set((users::phone.eq(p.as_ref().map(|p| p.as_str().to_owned())), users::updated_at.eq(now)))
                            .execute(c)
                            .await?
                    }
                    (ContactChange::Phone(p), Some(ContactChange::Phone(Some(old)))) => {
                        diesel::update(target.filter(users::phone.eq(old.as_str())))
                            .set((users::phone.eq(p.as_ref().map(|p| p.as_str().to_owned())), users::updated_at.eq(now)))
                            .execute(c)
                            .await?
                    }
                    (ContactChange::Phone(p), Some(ContactChange::Phone(None))) => {
                        diesel::update(target.filter(users::phone.is_null()))
                            .set((users::phone.eq(p.as_ref().map(|p| p.as_str().to_owned())), users::updated_at.eq(now)))
                            .execute(c)
                            .await?
                    }
                    // An expectation of another kind never holds.
                    _ => 0,
                };
                if changed == 1 {
                    if let Some(q) = queued.clone() {
                        diesel::insert_into(mail_outbox::table).values(q).execute(c).await?;
                    }
                    record_change!(c, Change::User(id), at)?;
                    queue_events!(c, id, events)?;
                }
                Ok(changed == 1)
            })
            .await
            .map_err(create_error)
        })
    }

    async fn clear_phone(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<(), DieselError> {
                let changed = diesel::update(users::table.find(id.0).filter(users::phone.is_not_null()))
                    .set((users::phone.eq(None::<String>), users::updated_at.eq(naive(at))))
                    .execute(c)
                    .await?;
                if changed == 1 {
                    record_change!(c, Change::User(id), at)?;
                }
                Ok(())
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn find_by_login(&self, login: &Login) -> Result<Option<User>, StoreError> {
        with_conn!(&self.db, conn => {
            let query = users::table.select(UserRow::as_select()).into_boxed();
            // Usernames match by their canonical form, which compares
            // exactly (BINARY in SQLite, utf8mb4_bin in MySQL).
            let query = match login {
                Login::Username(u) => query.filter(users::username_canonical.eq(u.canonical())),
                Login::Email(e) => query.filter(users::email.eq(e.as_str())),
                Login::Phone(p) => query.filter(users::phone.eq(p.as_str())),
            };
            let row = query.first(conn).await.optional().map_err(unavailable)?;
            let Some(row) = row else { return Ok(None) };
            let granted = user_roles::table
                .filter(user_roles::user_id.eq(row.id()))
                .order((user_roles::granted_at, user_roles::role_name))
                .select(user_roles::role_name)
                .load::<String>(conn)
                .await
                .map_err(unavailable)?;
            with_roles(row, granted).map(Some)
        })
    }

    async fn update_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
        mail: Option<&OutgoingMail>,
        events: &[PendingEvent],
    ) -> Result<(), StoreError> {
        let queued = mail.map(|m| new_row(m, at));
        let hash = hash.as_str().to_owned();
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                let changed = diesel::update(users::table.find(id.0))
                    .set((users::password_hash.eq(&hash), users::updated_at.eq(naive(at))))
                    .execute(c)
                    .await?;
                if let Some(q) = queued.clone().filter(|_| changed == 1) {
                    diesel::insert_into(mail_outbox::table).values(q).execute(c).await?;
                }
                if changed == 1 {
                    record_change!(c, Change::User(id), at)?;
                    queue_events!(c, id, events)?;
                }
                Ok(())
            })
            .await
            .map_err(unavailable)
        })
    }
}

impl UserDirectory for SqlUsers {
    async fn list(&self, query: &UserQuery) -> Result<UserPage, StoreError> {
        let pattern = query
            .search
            .as_deref()
            .map(|s| contains_pattern(&s.to_lowercase()));
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let limit = i64::from(query.limit);
        with_conn!(&self.db, conn => {
            let filtered = || {
                let q = users::table.into_boxed();
                match &pattern {
                    // Usernames compare without regard to case (column
                    // collation); emails are stored lower-case.
                    Some(p) => q.filter(
                        users::username.like(p.clone()).escape('\\').or(users::email.like(p.clone()).escape('\\')),
                    ),
                    None => q,
                }
            };
            let total: i64 = filtered().count().get_result(conn).await.map_err(unavailable)?;
            let ordered = match query.order {
                UserOrder::Id => filtered().order(users::id.asc()),
                UserOrder::Newest => filtered().order(users::id.desc()),
                UserOrder::Username => filtered().order((users::username.asc(), users::id.asc())),
                UserOrder::Email => filtered().order((users::email.asc(), users::id.asc())),
            };
            let rows: Vec<UserRow> = ordered
                .offset(offset)
                .limit(limit)
                .select(UserRow::as_select())
                .load(conn)
                .await
                .map_err(unavailable)?;
            let ids: Vec<i64> = rows.iter().map(UserRow::id).collect();
            let grants: Vec<(i64, String)> = user_roles::table
                .filter(user_roles::user_id.eq_any(&ids))
                .order((user_roles::user_id, user_roles::granted_at, user_roles::role_name))
                .select((user_roles::user_id, user_roles::role_name))
                .load(conn)
                .await
                .map_err(unavailable)?;
            let users = rows
                .into_iter()
                .map(|row| {
                    let id = row.id();
                    let granted = grants.iter().filter(|(u, _)| *u == id).map(|(_, r)| r.clone()).collect();
                    with_roles(row, granted)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(UserPage { users, total: u64::try_from(total).unwrap_or(0) })
        })
    }

    async fn set_active(
        &self,
        id: UserId,
        active: bool,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<bool, DieselError> {
                let changed = diesel::update(users::table.find(id.0).filter(users::is_active.ne(active)))
                    .set((users::is_active.eq(active), users::updated_at.eq(naive(at))))
                    .execute(c)
                    .await?;
                if changed == 1 {
                    record_change!(c, Change::User(id), at)?;
                    queue_events!(c, id, events)?;
                }
                Ok(changed == 1)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn grant_role(
        &self,
        id: UserId,
        role: &RoleName,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let role = role.as_str().to_owned();
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<bool, DieselError> {
                let Some(primary) = locked_primary_role!(c, id, at) else {
                    return Ok(false);
                };
                if primary == role {
                    return Ok(false);
                }
                let inserted = diesel::insert_or_ignore_into(user_roles::table)
                    .values((
                        user_roles::user_id.eq(id.0),
                        user_roles::role_name.eq(&role),
                        user_roles::granted_at.eq(naive(at)),
                    ))
                    .execute(c)
                    .await?;
                if inserted == 1 {
                    record_change!(c, Change::User(id), at)?;
                    queue_events!(c, id, events)?;
                }
                Ok(inserted == 1)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn revoke_role(
        &self,
        id: UserId,
        role: &RoleName,
        fallback: &RoleName,
        at: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        let role = role.as_str().to_owned();
        let fallback = fallback.as_str().to_owned();
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<bool, DieselError> {
                let Some(primary) = locked_primary_role!(c, id, at) else {
                    return Ok(false);
                };
                if primary != role {
                    let deleted = diesel::delete(
                        user_roles::table
                            .filter(user_roles::user_id.eq(id.0))
                            .filter(user_roles::role_name.eq(&role)),
                    )
                    .execute(c)
                    .await?;
                    if deleted == 1 {
                        record_change!(c, Change::User(id), at)?;
                        queue_events!(c, id, events)?;
                    }
                    return Ok(deleted == 1);
                }
                let next: Option<String> = user_roles::table
                    .filter(user_roles::user_id.eq(id.0))
                    .order((user_roles::granted_at, user_roles::role_name))
                    .select(user_roles::role_name)
                    .first(c)
                    .await
                    .optional()?;
                let new_primary = match next {
                    Some(n) => {
                        diesel::delete(
                            user_roles::table
                                .filter(user_roles::user_id.eq(id.0))
                                .filter(user_roles::role_name.eq(&n)),
                        )
                        .execute(c)
                        .await?;
                        n
                    }
                    None if fallback == role => return Ok(false),
                    None => fallback.clone(),
                };
                diesel::update(users::table.find(id.0))
                    .set(users::role.eq(&new_primary))
                    .execute(c)
                    .await?;
                record_change!(c, Change::User(id), at)?;
                queue_events!(c, id, events)?;
                Ok(true)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn delete(&self, id: UserId, events: &[PendingEvent]) -> Result<bool, StoreError> {
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<bool, DieselError> {
                // The user row first (write first); then what hangs on it,
                // explicitly, since SQLite enforces no foreign keys by default.
                let email = address_of!(c, id)?;
                let deleted = diesel::delete(users::table.find(id.0)).execute(c).await?;
                remove_account_data!(c, id, email)?;
                if deleted == 1 {
                    record_change!(c, Change::User(id), Utc::now())?;
                    queue_events!(c, id, events)?;
                }
                Ok(deleted == 1)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn delete_unverified(
        &self,
        id: UserId,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<bool, DieselError> {
                // The conditional delete decides: a verification committed
                // first makes it delete nothing.
                let deleted = diesel::delete(users::table.find(id.0).filter(users::email_verified.eq(false)))
                    .execute(c)
                    .await?;
                if deleted == 1 {
                    // A pending registration is replaced by the address's
                    // owner signing up again: the codes and mail of the
                    // address are theirs and stay (seed 001's Verify takes
                    // the code mailed first).
                    remove_account_data!(c, id, None)?;
                    record_change!(c, Change::User(id), Utc::now())?;
                    queue_events!(c, id, events)?;
                }
                Ok(deleted == 1)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn schedule_deletion(
        &self,
        id: UserId,
        requested_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<bool, DieselError> {
                let exists: i64 = users::table.find(id.0).count().get_result(c).await?;
                if exists == 0 {
                    return Ok(false);
                }
                diesel::delete(account_deletions::table.find(id.0)).execute(c).await?;
                diesel::insert_into(account_deletions::table)
                    .values((
                        account_deletions::user_id.eq(id.0),
                        account_deletions::requested_at.eq(naive(requested_at)),
                        account_deletions::due_at.eq(naive(due_at)),
                    ))
                    .execute(c)
                    .await?;
                Ok(true)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn cancel_deletion(&self, id: UserId) -> Result<bool, StoreError> {
        with_conn!(write &self.db, conn => {
            let n = diesel::delete(account_deletions::table.find(id.0))
                .execute(conn)
                .await
                .map_err(unavailable)?;
            Ok(n == 1)
        })
    }

    async fn deletion_due_at(&self, id: UserId) -> Result<Option<DateTime<Utc>>, StoreError> {
        with_conn!(&self.db, conn => {
            let due: Option<chrono::NaiveDateTime> = account_deletions::table
                .find(id.0)
                .select(account_deletions::due_at)
                .first(conn)
                .await
                .optional()
                .map_err(unavailable)?;
            Ok(due.map(|d| d.and_utc()))
        })
    }

    async fn deletions_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UserId>, StoreError> {
        with_conn!(&self.db, conn => {
            let ids: Vec<i64> = account_deletions::table
                .filter(account_deletions::due_at.le(naive(now)))
                .order((account_deletions::due_at, account_deletions::user_id))
                .limit(i64::from(limit))
                .select(account_deletions::user_id)
                .load(conn)
                .await
                .map_err(unavailable)?;
            Ok(ids.into_iter().map(UserId).collect())
        })
    }

    async fn delete_if_due(
        &self,
        id: UserId,
        now: DateTime<Utc>,
        events: &[PendingEvent],
    ) -> Result<bool, StoreError> {
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<bool, DieselError> {
                // Removing the schedule decides: a sign-in that cancelled it
                // first makes this delete nothing.
                let due = diesel::delete(
                    account_deletions::table
                        .find(id.0)
                        .filter(account_deletions::due_at.le(naive(now))),
                )
                .execute(c)
                .await?;
                if due == 0 {
                    return Ok(false);
                }
                let email = address_of!(c, id)?;
                let deleted = diesel::delete(users::table.find(id.0)).execute(c).await?;
                remove_account_data!(c, id, email)?;
                if deleted == 1 {
                    record_change!(c, Change::User(id), Utc::now())?;
                    queue_events!(c, id, events)?;
                }
                Ok(deleted == 1)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn unverified_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UserId>, StoreError> {
        with_conn!(&self.db, conn => {
            let ids: Vec<i64> = users::table
                .filter(users::email_verified.eq(false))
                .filter(users::created_at.lt(naive(cutoff)))
                .order((users::created_at, users::id))
                .limit(i64::from(limit))
                .select(users::id)
                .load(conn)
                .await
                .map_err(unavailable)?;
            Ok(ids.into_iter().map(UserId).collect())
        })
    }

    async fn catalogue(&self) -> Result<RoleCatalogue, StoreError> {
        with_conn!(&self.db, conn => {
            let ranked: Vec<(String, i32)> = roles::table.select((roles::name, roles::rank)).load(conn).await.map_err(unavailable)?;
            let pairs: Vec<(String, String)> = role_permissions::table
                .select((role_permissions::role_name, role_permissions::permission))
                .load(conn)
                .await
                .map_err(unavailable)?;
            Ok(RoleCatalogue::from_pairs(
                ranked
                    .iter()
                    .map(|(n, _)| (n.clone(), None))
                    .chain(pairs.into_iter().map(|(r, p)| (r, Some(p)))),
            )
            .with_ranks(ranked))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_violated_column() {
        assert_eq!(
            violated_field("UNIQUE constraint failed: users.email", None),
            Some(UniqueField::Email)
        );
        assert_eq!(
            violated_field("UNIQUE constraint failed: users.username", None),
            Some(UniqueField::Username)
        );
        assert_eq!(
            violated_field(
                "Duplicate entry 'email-phone' for key 'users_username_key'",
                None
            ),
            Some(UniqueField::Username)
        );
        assert_eq!(
            violated_field("anything", Some("users_phone_key")),
            Some(UniqueField::Phone)
        );
        assert_eq!(
            violated_field("UNIQUE constraint failed: users.public_id", None),
            Some(UniqueField::PublicId)
        );
    }
}
