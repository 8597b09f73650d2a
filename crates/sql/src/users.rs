use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use tessera_domain::error::{CreateUserError, StoreError};
use tessera_domain::newtypes::Login;
use tessera_domain::ports::{OutgoingMail, UserRepository};
use tessera_domain::user::{NewUser, PasswordHash, UniqueField, User, UserId};

use crate::db::{Database, unavailable, with_conn};
use crate::outbox::new_row;
use crate::rows::{NewUserRow, UserRow, naive};
use crate::schema::{mail_outbox, users};

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
    ) -> Result<User, CreateUserError> {
        let public_id = user.public_id.to_string();
        let queued = mail.map(|m| new_row(m, user.created_at));
        with_conn!(&self.db, conn => {
            let row: UserRow = conn
                .transaction(async |c| -> Result<_, DieselError> {
                    diesel::insert_into(users::table).values(NewUserRow::from(&user)).execute(c).await?;
                    if let Some(q) = queued.clone() {
                        diesel::insert_into(mail_outbox::table).values(q).execute(c).await?;
                    }
                    users::table.filter(users::public_id.eq(&public_id)).select(UserRow::as_select()).first(c).await
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
            row.map(User::try_from).transpose()
        })
    }

    async fn mark_email_verified(&self, id: UserId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        with_conn!(&self.db, conn => {
            let changed = diesel::update(users::table.find(id.0).filter(users::email_verified.eq(false)))
                .set((users::email_verified.eq(true), users::updated_at.eq(naive(at))))
                .execute(conn)
                .await
                .map_err(unavailable)?;
            Ok(changed == 1)
        })
    }

    async fn find_by_login(&self, login: &Login) -> Result<Option<User>, StoreError> {
        with_conn!(&self.db, conn => {
            let query = users::table.select(UserRow::as_select()).into_boxed();
            // The username column compares without regard to ASCII case
            // (COLLATE NOCASE in SQLite, a _ci collation in MySQL).
            let query = match login {
                Login::Username(u) => query.filter(users::username.eq(u.as_str())),
                Login::Email(e) => query.filter(users::email.eq(e.as_str())),
                Login::Phone(p) => query.filter(users::phone.eq(p.as_str())),
            };
            let row = query.first(conn).await.optional().map_err(unavailable)?;
            row.map(User::try_from).transpose()
        })
    }

    async fn update_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
        mail: Option<&OutgoingMail>,
    ) -> Result<(), StoreError> {
        let queued = mail.map(|m| new_row(m, at));
        let hash = hash.as_str().to_owned();
        with_conn!(&self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                let changed = diesel::update(users::table.find(id.0))
                    .set((users::password_hash.eq(&hash), users::updated_at.eq(naive(at))))
                    .execute(c)
                    .await?;
                if let Some(q) = queued.clone().filter(|_| changed == 1) {
                    diesel::insert_into(mail_outbox::table).values(q).execute(c).await?;
                }
                Ok(())
            })
            .await
            .map_err(unavailable)
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
            None
        );
    }
}
