//! The backfill of migration `2026-11-29-000007_identifiers`: SQL cannot
//! compute RFC 8265 PRECIS or E.164, so Tessera canonicalises the rows that
//! predate the migration (`identifiers_version` 0) after the schema
//! migrations have run: `username_canonical` is filled, e-mail addresses take
//! their canonical form ([`Email::parse`]) and phone digits become E.164
//! ([`Phone::from_bare_digits`], read in the configured `PHONE_DEFAULT_REGION`).
//!
//! Nothing is merged and nothing fails: a row whose canonical identifier is
//! already held by an earlier row keeps its old value (a username without a
//! canonical form cannot be looked up), stays reachable by its other
//! identifiers and is reported, as are values that no longer parse and legacy
//! phone digits that read as two different numbers. An operator settles each
//! report (rename, change or remove) by hand.

use std::fmt;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::RunQueryDsl;
use tessera_domain::error::StoreError;
use tessera_domain::values::{Email, Phone, PhoneRegion, Username, UsernamePolicy};

use crate::db::{Database, unavailable, with_conn};
use crate::rows::IDENTIFIERS_VERSION;
use crate::schema::users;

/// Rows read per step.
const BATCH: i64 = 200;

/// Which identifier a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierKind {
    /// The username (its canonical form).
    Username,
    /// The e-mail address.
    Email,
    /// The phone number.
    Phone,
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::Phone => "phone",
        })
    }
}

/// A row the backfill could not canonicalise; the row keeps its old value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentifierIssue {
    /// The canonical form is held by the earlier user `holder`.
    Collision {
        /// The user whose identifier was left as it was.
        user_id: i64,
        /// Which identifier.
        kind: IdentifierKind,
        /// The stored value.
        stored: String,
        /// Its canonical form.
        canonical: String,
        /// The user who holds the canonical form.
        holder: i64,
    },
    /// The stored value does not parse under today's rules.
    Invalid {
        /// The user.
        user_id: i64,
        /// Which identifier.
        kind: IdentifierKind,
        /// The stored value.
        stored: String,
    },
    /// Legacy phone digits valid both as a national number of the region and
    /// as an international number; the digits are left as they were.
    AmbiguousPhone {
        /// The user.
        user_id: i64,
        /// The stored digits.
        stored: String,
        /// The readings, the region's national one first.
        readings: Vec<String>,
    },
}

impl fmt::Display for IdentifierIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Collision {
                user_id,
                kind,
                stored,
                canonical,
                holder,
            } => write!(
                f,
                "user {user_id}: {kind} {stored:?} reads as {canonical:?}, held by user {holder}; left as it was (not usable to log in) until renamed"
            ),
            Self::Invalid {
                user_id,
                kind,
                stored,
            } => write!(
                f,
                "user {user_id}: {kind} {stored:?} is not valid under today's rules; left as it was (not usable to log in)"
            ),
            Self::AmbiguousPhone {
                user_id,
                stored,
                readings,
            } => write!(
                f,
                "user {user_id}: phone digits {stored:?} read as {}; left as they were until the number is confirmed",
                readings.join(" or ")
            ),
        }
    }
}

/// What a backfill run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillReport {
    /// Rows canonicalised (or reported) in this run.
    pub rows: usize,
    /// Identifier values that changed (canonical username set, e-mail or phone rewritten).
    pub changed: usize,
    /// What was left as it was, one entry per identifier.
    pub issues: Vec<IdentifierIssue>,
}

type LegacyRow = (i64, String, String, Option<String>);

fn is_unique_violation(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Canonicalises every row of `db` not yet at the current identifiers
/// version (see the module documentation). Runs in steps of 200 rows; a row is
/// marked done once its three identifiers are written or reported.
///
/// # Errors
/// [`StoreError::Unavailable`] when the database fails (rows done so far stay done).
pub async fn backfill_identifiers(
    db: &Database,
    region: PhoneRegion,
) -> Result<BackfillReport, StoreError> {
    let mut report = BackfillReport::default();
    let mut after = 0_i64;
    loop {
        let rows: Vec<LegacyRow> = with_conn!(db, conn => {
            users::table
                .filter(users::identifiers_version.lt(IDENTIFIERS_VERSION))
                .filter(users::id.gt(after))
                .order(users::id)
                .limit(BATCH)
                .select((users::id, users::username, users::email, users::phone))
                .load(conn)
                .await
                .map_err(unavailable)
        })?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for row in rows {
            backfill_row(db, region, row, &mut report).await?;
        }
    }
    Ok(report)
}

/// Writes `$canonical` into `$column` of row `$id`; when another row already
/// holds that value (a unique violation) the row keeps its old value and a
/// [`IdentifierIssue::Collision`] naming the holder is reported instead.
macro_rules! write_canonical {
    ($db:expr, $report:expr, $id:expr, $column:expr, $kind:expr, $stored:expr, $canonical:expr) => {{
        let canonical: String = $canonical;
        let written: Result<usize, DieselError> = with_conn!(write $db, conn => {
            diesel::update(users::table.find($id))
                .set($column.eq(&canonical))
                .execute(conn)
                .await
        });
        match written {
            Ok(_) => $report.changed += 1,
            Err(err) if is_unique_violation(&err) => {
                let holder: i64 = with_conn!($db, conn => {
                    users::table
                        .filter($column.eq(&canonical))
                        .select(users::id)
                        .first(conn)
                        .await
                        .map_err(unavailable)
                })?;
                $report.issues.push(IdentifierIssue::Collision {
                    user_id: $id,
                    kind: $kind,
                    stored: $stored,
                    canonical,
                    holder,
                });
            }
            Err(err) => return Err(unavailable(err)),
        }
    }};
}

async fn backfill_row(
    db: &Database,
    region: PhoneRegion,
    (id, username, email, phone): LegacyRow,
    report: &mut BackfillReport,
) -> Result<(), StoreError> {
    report.rows += 1;
    match Username::parse(&username, &UsernamePolicy::EXISTING) {
        Ok(u) => write_canonical!(
            db,
            report,
            id,
            users::username_canonical,
            IdentifierKind::Username,
            username,
            u.canonical().to_owned()
        ),
        Err(_) => report.issues.push(IdentifierIssue::Invalid {
            user_id: id,
            kind: IdentifierKind::Username,
            stored: username,
        }),
    }

    match Email::parse(&email) {
        Ok(e) if e.as_str() == email => {}
        Ok(e) => write_canonical!(
            db,
            report,
            id,
            users::email,
            IdentifierKind::Email,
            email,
            e.as_str().to_owned()
        ),
        Err(_) => report.issues.push(IdentifierIssue::Invalid {
            user_id: id,
            kind: IdentifierKind::Email,
            stored: email,
        }),
    }

    if let Some(stored) = phone {
        match Phone::from_bare_digits(&stored, region) {
            Ok(p) if p.as_str() == stored => {}
            Ok(p) => write_canonical!(
                db,
                report,
                id,
                users::phone,
                IdentifierKind::Phone,
                stored,
                p.as_str().to_owned()
            ),
            Err(readings) if readings.is_empty() => report.issues.push(IdentifierIssue::Invalid {
                user_id: id,
                kind: IdentifierKind::Phone,
                stored,
            }),
            Err(readings) => report.issues.push(IdentifierIssue::AmbiguousPhone {
                user_id: id,
                stored,
                readings: readings.iter().map(|p| p.as_str().to_owned()).collect(),
            }),
        }
    }

    with_conn!(write db, conn => {
        diesel::update(users::table.find(id))
            .set(users::identifiers_version.eq(IDENTIFIERS_VERSION))
            .execute(conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    //! Rows written in the old form (raw display username, no canonical
    //! column, e-mail only lower-cased, phone digits without `+`) are
    //! canonicalised by `Database::migrate`; collisions and doubtful values are
    //! reported and left reachable by the row's other identifiers.
    use std::time::Duration;

    use chrono::Utc;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use tessera_domain::ports::UserRepository as _;
    use tessera_domain::values::{Login, PhoneRegion};
    use uuid::Uuid;

    use super::{IdentifierIssue, IdentifierKind};
    use crate::SqlUsers;
    use crate::db::{Database, DbConfig, with_conn};
    use crate::schema::users;

    async fn insert_legacy(
        db: &Database,
        username: &str,
        email: &str,
        phone: Option<&str>,
    ) -> Result<i64, tessera_domain::error::StoreError> {
        let now = Utc::now().naive_utc();
        let public_id = Uuid::new_v4().to_string();
        with_conn!(write db, conn => {
            diesel::insert_into(users::table)
                .values((
                    users::public_id.eq(&public_id),
                    users::username.eq(username),
                    users::email.eq(email),
                    users::phone.eq(phone),
                    users::password_hash.eq("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"),
                    users::role.eq("unauth"),
                    users::created_at.eq(now),
                    users::updated_at.eq(now),
                ))
                .execute(conn)
                .await
                .unwrap();
            Ok(users::table
                .filter(users::public_id.eq(&public_id))
                .select(users::id)
                .first(conn)
                .await
                .unwrap())
        })
    }

    async fn backfill_reports_and_keeps_rows_reachable(url: String) {
        let config = DbConfig {
            url,
            max_connections: 4,
            acquire_timeout: Duration::from_secs(10),
        };
        let cn = PhoneRegion::default();
        let first = Database::migrate(&config, cn).await.unwrap();
        assert_eq!(first.identifiers.rows, 0);
        let db = Database::connect(&config).unwrap();
        // The old form: `identifiers_version` 0, no canonical username.
        let elise = insert_legacy(&db, "Élise7", "élise7@bücher.example", Some("13800138000"))
            .await
            .unwrap();
        let twin = insert_legacy(&db, "élise7", "twin@b.com", Some("8613800138000"))
            .await
            .unwrap();
        let kelvin = insert_legacy(&db, "\u{212A}ora7", "k@b.com", Some("13105551234"))
            .await
            .unwrap();
        let hidden = insert_legacy(&db, "hidden7", "x\u{200B}y@b.com", None)
            .await
            .unwrap();
        let ligature = insert_legacy(&db, "ﬁsh7", "fish@b.com", Some("12"))
            .await
            .unwrap();

        let report = Database::migrate(&config, cn).await.unwrap();
        assert_eq!(report.applied, 0);
        let ids = report.identifiers;
        assert_eq!(ids.rows, 5, "{ids:?}");
        let expected = [
            IdentifierIssue::Collision {
                user_id: twin,
                kind: IdentifierKind::Username,
                stored: "élise7".into(),
                canonical: "élise7".into(),
                holder: elise,
            },
            IdentifierIssue::Collision {
                user_id: twin,
                kind: IdentifierKind::Phone,
                stored: "8613800138000".into(),
                canonical: "+8613800138000".into(),
                holder: elise,
            },
            IdentifierIssue::AmbiguousPhone {
                user_id: kelvin,
                stored: "13105551234".into(),
                readings: vec!["+8613105551234".into(), "+13105551234".into()],
            },
            IdentifierIssue::Invalid {
                user_id: hidden,
                kind: IdentifierKind::Email,
                stored: "x\u{200B}y@b.com".into(),
            },
            IdentifierIssue::Invalid {
                user_id: ligature,
                kind: IdentifierKind::Username,
                stored: "ﬁsh7".into(),
            },
            IdentifierIssue::Invalid {
                user_id: ligature,
                kind: IdentifierKind::Phone,
                stored: "12".into(),
            },
        ];
        assert_eq!(ids.issues, expected);
        for issue in &ids.issues {
            assert!(issue.to_string().starts_with("user "), "{issue}");
        }

        let repo = SqlUsers::new(db.clone());
        let find = async |raw: &str| {
            repo.find_by_login(&Login::parse(raw, cn).unwrap())
                .await
                .unwrap()
                .map(|u| u.id.0)
        };
        assert_eq!(find("ÉLISE7").await, Some(elise));
        assert_eq!(find("+86 138 0013 8000").await, Some(elise));
        assert_eq!(find("ÉLISE7@BÜCHER.example").await, Some(elise));
        assert_eq!(find("élise7@xn--bcher-kva.example").await, Some(elise));
        assert_eq!(find("twin@b.com").await, Some(twin), "reachable by e-mail");
        assert_eq!(
            find("Kora7").await,
            Some(kelvin),
            "the Kelvin sign reads as K"
        );
        assert_eq!(find("fish@b.com").await, Some(ligature));
        let stored = repo
            .find_by_id(tessera_domain::model::UserId(elise))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.username.as_str(), "Élise7", "display form kept");
        assert_eq!(stored.phone.unwrap().as_str(), "+8613800138000");

        let again = Database::migrate(&config, cn).await.unwrap();
        assert_eq!(again.identifiers.rows, 0, "each row once");
        Database::drop_database(&config.url).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sqlite_backfill_canonicalises_old_rows() {
        let dir = tempfile_dir();
        backfill_reports_and_keeps_rows_reachable(format!("sqlite://{}/t.db", dir.display())).await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(feature = "mysql")]
    #[tokio::test(flavor = "multi_thread")]
    async fn mysql_backfill_canonicalises_old_rows() {
        let base = std::env::var("TEST_DATABASE_URL")
            .expect("TEST_DATABASE_URL is not set (e.g. mysql://root@127.0.0.1:3306)");
        let name = format!("tessera_test_{}", Uuid::new_v4().simple());
        backfill_reports_and_keeps_rows_reachable(format!("{}/{name}", base.trim_end_matches('/')))
            .await;
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tessera-backfill-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
