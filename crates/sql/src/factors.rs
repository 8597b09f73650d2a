//! Second factors in the `totp_factors` and `recovery_codes` tables
//! (issue 17): every decision is one conditional statement, so of
//! concurrent callers exactly one wins.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use tessera_domain::error::StoreError;
use tessera_domain::model::{
    FactorOverview, Passkey, PasskeyAdded, SealedSecret, StoredCredential, TokenFingerprint,
    TotpFactor, UserId,
};
use tessera_domain::ports::FactorStore;
use uuid::Uuid;

use crate::db::{Database, unavailable, with_conn};
use crate::rows::naive;
use crate::schema::{passkeys as pk, recovery_codes as rc, totp_factors as tf, users};

/// Deletes the recovery codes of `$user` when no factor is left (no
/// passkey, no confirmed TOTP factor): they go with the last factor. Runs on
/// `$c`, inside the caller's transaction (a macro: the statement is the same
/// on both backends, the connection types differ).
macro_rules! drop_codes_without_factor {
    ($c:expr, $user:expr) => {{
        let user: UserId = $user;
        let passkeys: i64 = pk::table
            .filter(pk::user_id.eq(user.0))
            .count()
            .get_result($c)
            .await?;
        let totp: i64 = tf::table
            .filter(tf::user_id.eq(user.0))
            .filter(tf::confirmed_at.is_not_null())
            .count()
            .get_result($c)
            .await?;
        if passkeys == 0 && totp == 0 {
            diesel::delete(rc::table.filter(rc::user_id.eq(user.0)))
                .execute($c)
                .await?;
        }
    }};
}

/// TOTP factors and recovery codes in SQL (both stacks keep them in the
/// database: they are as durable as the accounts).
#[derive(Debug, Clone)]
pub struct SqlFactors {
    db: Database,
}

impl SqlFactors {
    /// Factors stored in `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type TotpRow = (
    i64,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<i64>,
);

fn to_factor(r: TotpRow) -> TotpFactor {
    let (user_id, sealed_secret, created_at, confirmed_at, last_used_step) = r;
    TotpFactor {
        user_id: UserId(user_id),
        sealed_secret: SealedSecret(sealed_secret),
        created_at: created_at.and_utc(),
        confirmed_at: confirmed_at.map(|t| t.and_utc()),
        last_used_step: last_used_step.and_then(|s| u64::try_from(s).ok()),
    }
}

/// The columns of a [`TotpRow`].
fn totp_columns() -> (
    tf::user_id,
    tf::sealed_secret,
    tf::created_at,
    tf::confirmed_at,
    tf::last_used_step,
) {
    (
        tf::user_id,
        tf::sealed_secret,
        tf::created_at,
        tf::confirmed_at,
        tf::last_used_step,
    )
}

fn step_value(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

impl FactorStore for SqlFactors {
    async fn overview(&self, user: UserId) -> Result<FactorOverview, StoreError> {
        let (totp, left, passkeys): (Option<TotpRow>, i64, i64) = with_conn!(&self.db, conn => {
            let totp = tf::table
                .find(user.0)
                .select(totp_columns())
                .first(conn)
                .await
                .optional()
                .map_err(unavailable)?;
            let left = rc::table
                .filter(rc::user_id.eq(user.0))
                .filter(rc::used_at.is_null())
                .count()
                .get_result(conn)
                .await
                .map_err(unavailable)?;
            let passkeys = pk::table
                .filter(pk::user_id.eq(user.0))
                .count()
                .get_result(conn)
                .await
                .map_err(unavailable)?;
            Ok::<_, StoreError>((totp, left, passkeys))
        })?;
        let totp = totp.map(to_factor);
        Ok(FactorOverview {
            totp_confirmed_at: totp.as_ref().and_then(|f| f.confirmed_at),
            totp_pending: totp.as_ref().is_some_and(|f| !f.is_confirmed()),
            passkeys: u32::try_from(passkeys).unwrap_or(0),
            recovery_codes_left: u32::try_from(left).unwrap_or(0),
        })
    }

    async fn totp(&self, user: UserId) -> Result<Option<TotpFactor>, StoreError> {
        let row: Option<TotpRow> = with_conn!(&self.db, conn => {
            tf::table
                .find(user.0)
                .select(totp_columns())
                .first(conn)
                .await
                .optional()
                .map_err(unavailable)
        })?;
        Ok(row.map(to_factor))
    }

    async fn begin_totp(&self, factor: &TotpFactor) -> Result<bool, StoreError> {
        let user = factor.user_id.0;
        let row = (
            tf::user_id.eq(user),
            tf::sealed_secret.eq(factor.sealed_secret.0.clone()),
            tf::created_at.eq(naive(factor.created_at)),
            tf::confirmed_at.eq(None::<NaiveDateTime>),
            tf::last_used_step.eq(None::<i64>),
        );
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                // An unconfirmed enrolment is replaced; a confirmed factor
                // stays, and the insert is then ignored.
                diesel::delete(tf::table.filter(tf::user_id.eq(user)).filter(tf::confirmed_at.is_null()))
                    .execute(c)
                    .await?;
                let inserted = diesel::insert_or_ignore_into(tf::table).values(row.clone()).execute(c).await?;
                Ok(inserted == 1)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn confirm_totp(
        &self,
        user: UserId,
        sealed_secret: &SealedSecret,
        step: u64,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sealed = sealed_secret.0.clone();
        let changed = with_conn!(write &self.db, conn => {
            diesel::update(
                tf::table
                    .filter(tf::user_id.eq(user.0))
                    .filter(tf::confirmed_at.is_null())
                    .filter(tf::sealed_secret.eq(&sealed)),
            )
            .set((tf::confirmed_at.eq(Some(naive(at))), tf::last_used_step.eq(Some(step_value(step)))))
            .execute(conn)
            .await
            .map_err(unavailable)
        })?;
        Ok(changed == 1)
    }

    async fn use_totp_step(&self, user: UserId, step: u64) -> Result<bool, StoreError> {
        let step = step_value(step);
        let changed = with_conn!(write &self.db, conn => {
            diesel::update(
                tf::table
                    .filter(tf::user_id.eq(user.0))
                    .filter(tf::confirmed_at.is_not_null())
                    .filter(tf::last_used_step.is_null().or(tf::last_used_step.lt(step))),
            )
            .set(tf::last_used_step.eq(Some(step)))
            .execute(conn)
            .await
            .map_err(unavailable)
        })?;
        Ok(changed == 1)
    }

    async fn remove_totp(&self, user: UserId) -> Result<bool, StoreError> {
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                // The owner's row first: concurrent removals of two factors
                // then count each other's (InnoDB reads a snapshot).
                diesel::update(users::table.find(user.0)).set(users::id.eq(users::id)).execute(c).await?;
                let removed = diesel::delete(tf::table.filter(tf::user_id.eq(user.0))).execute(c).await?;
                drop_codes_without_factor!(c, user);
                Ok(removed == 1)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        fingerprints: &[TokenFingerprint],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let rows: Vec<_> = fingerprints
            .iter()
            .map(|f| {
                (
                    rc::user_id.eq(user.0),
                    rc::fingerprint.eq(f.0.clone()),
                    rc::created_at.eq(naive(at)),
                    rc::used_at.eq(None::<NaiveDateTime>),
                )
            })
            .collect();
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                diesel::delete(rc::table.filter(rc::user_id.eq(user.0))).execute(c).await?;
                for row in &rows {
                    diesel::insert_into(rc::table).values(row.clone()).execute(c).await?;
                }
                Ok(())
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn use_recovery_code(
        &self,
        user: UserId,
        fingerprint: &TokenFingerprint,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let fingerprint = fingerprint.0.clone();
        let changed = with_conn!(write &self.db, conn => {
            diesel::update(
                rc::table
                    .filter(rc::user_id.eq(user.0))
                    .filter(rc::fingerprint.eq(&fingerprint))
                    .filter(rc::used_at.is_null()),
            )
            .set(rc::used_at.eq(Some(naive(at))))
            .execute(conn)
            .await
            .map_err(unavailable)
        })?;
        Ok(changed == 1)
    }

    async fn passkeys(&self, user: UserId) -> Result<Vec<Passkey>, StoreError> {
        let rows: Vec<PasskeyRow> = with_conn!(&self.db, conn => {
            pk::table
                .filter(pk::user_id.eq(user.0))
                .order((pk::created_at.asc(), pk::id.asc()))
                .select(passkey_columns())
                .load(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(rows.into_iter().filter_map(to_passkey).collect())
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<Passkey>, StoreError> {
        let row: Option<PasskeyRow> = with_conn!(&self.db, conn => {
            pk::table
                .filter(pk::credential_id.eq(credential_id))
                .select(passkey_columns())
                .first(conn)
                .await
                .optional()
                .map_err(unavailable)
        })?;
        Ok(row.and_then(to_passkey))
    }

    async fn add_passkey(
        &self,
        passkey: &Passkey,
        max_per_account: usize,
        recovery_codes: &[TokenFingerprint],
    ) -> Result<PasskeyAdded, StoreError> {
        let codes: Vec<_> = recovery_codes
            .iter()
            .map(|f| {
                (
                    rc::user_id.eq(passkey.user_id.0),
                    rc::fingerprint.eq(f.0.clone()),
                    rc::created_at.eq(naive(passkey.created_at)),
                    rc::used_at.eq(None::<NaiveDateTime>),
                )
            })
            .collect();
        let user = passkey.user_id.0;
        let max = i64::try_from(max_per_account).unwrap_or(i64::MAX);
        let row = (
            pk::id.eq(passkey.id.to_string()),
            pk::user_id.eq(user),
            pk::credential_id.eq(passkey.credential_id.clone()),
            pk::name.eq(passkey.name.clone()),
            pk::credential.eq(passkey.credential.0.clone()),
            pk::backup_eligible.eq(passkey.backup_eligible),
            pk::created_at.eq(naive(passkey.created_at)),
            pk::last_used_at.eq(passkey.last_used_at.map(naive)),
        );
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                // The owner's row is locked first (a no-op write), so that
                // concurrent registrations of one account count one after
                // the other (SQLite has one writer anyway).
                diesel::update(users::table.find(user)).set(users::id.eq(users::id)).execute(c).await?;
                let held: i64 = pk::table.filter(pk::user_id.eq(user)).count().get_result(c).await?;
                if held >= max {
                    return Ok(PasskeyAdded::AccountFull);
                }
                let inserted = diesel::insert_or_ignore_into(pk::table).values(row.clone()).execute(c).await?;
                if inserted != 1 {
                    return Ok(PasskeyAdded::CredentialTaken);
                }
                // The first factor's codes, unless the account holds some
                // (the owner's row lock serialises concurrent first factors).
                let unused: i64 = rc::table
                    .filter(rc::user_id.eq(user))
                    .filter(rc::used_at.is_null())
                    .count()
                    .get_result(c)
                    .await?;
                if unused == 0 {
                    diesel::delete(rc::table.filter(rc::user_id.eq(user))).execute(c).await?;
                    for code in &codes {
                        diesel::insert_into(rc::table).values(code.clone()).execute(c).await?;
                    }
                }
                Ok(PasskeyAdded::Added { recovery_codes_issued: unused == 0 })
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn rename_passkey(&self, user: UserId, id: Uuid, name: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        let changed = with_conn!(write &self.db, conn => {
            diesel::update(pk::table.filter(pk::id.eq(&id)).filter(pk::user_id.eq(user.0)))
                .set(pk::name.eq(name))
                .execute(conn)
                .await
                .map_err(unavailable)
        })?;
        Ok(changed == 1)
    }

    async fn remove_passkey(&self, user: UserId, id: Uuid) -> Result<bool, StoreError> {
        let id = id.to_string();
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                diesel::update(users::table.find(user.0)).set(users::id.eq(users::id)).execute(c).await?;
                let removed = diesel::delete(pk::table.filter(pk::id.eq(&id)).filter(pk::user_id.eq(user.0)))
                    .execute(c)
                    .await?;
                if removed == 1 {
                    drop_codes_without_factor!(c, user);
                }
                Ok(removed == 1)
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn record_passkey_use(
        &self,
        id: Uuid,
        previous: &StoredCredential,
        updated: Option<(&StoredCredential, bool)>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        let previous = previous.0.clone();
        let updated = updated.map(|(c, be)| (c.0.clone(), be));
        let changed = with_conn!(write &self.db, conn => {
            match &updated {
                // Compare and set: the counter never moves back.
                Some((credential, backup_eligible)) => diesel::update(
                    pk::table.filter(pk::id.eq(&id)).filter(pk::credential.eq(&previous)),
                )
                .set((
                    pk::last_used_at.eq(Some(naive(at))),
                    pk::credential.eq(credential),
                    pk::backup_eligible.eq(*backup_eligible),
                ))
                .execute(conn)
                .await,
                None => diesel::update(pk::table.filter(pk::id.eq(&id)))
                    .set(pk::last_used_at.eq(Some(naive(at))))
                    .execute(conn)
                    .await,
            }
            .map_err(unavailable)
        })?;
        Ok(changed == 1)
    }

    async fn remove_all_factors(&self, user: UserId) -> Result<bool, StoreError> {
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                let passkeys = diesel::delete(pk::table.filter(pk::user_id.eq(user.0))).execute(c).await?;
                let totp = diesel::delete(tf::table.filter(tf::user_id.eq(user.0))).execute(c).await?;
                let codes = diesel::delete(rc::table.filter(rc::user_id.eq(user.0))).execute(c).await?;
                Ok(passkeys + totp + codes > 0)
            })
            .await
            .map_err(unavailable)
        })
    }
}

type PasskeyRow = (
    String,
    i64,
    String,
    String,
    String,
    bool,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

/// The columns of a [`PasskeyRow`].
fn passkey_columns() -> (
    pk::id,
    pk::user_id,
    pk::credential_id,
    pk::name,
    pk::credential,
    pk::backup_eligible,
    pk::created_at,
    pk::last_used_at,
) {
    (
        pk::id,
        pk::user_id,
        pk::credential_id,
        pk::name,
        pk::credential,
        pk::backup_eligible,
        pk::created_at,
        pk::last_used_at,
    )
}

fn to_passkey(r: PasskeyRow) -> Option<Passkey> {
    let (id, user_id, credential_id, name, credential, backup_eligible, created_at, last_used_at) =
        r;
    Some(Passkey {
        id: Uuid::parse_str(&id).ok()?,
        user_id: UserId(user_id),
        credential_id,
        name,
        credential: StoredCredential(credential),
        backup_eligible,
        created_at: created_at.and_utc(),
        last_used_at: last_used_at.map(|t| t.and_utc()),
    })
}
