use chrono::Utc;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use tessera_domain::error::StoreError;
use tessera_domain::model::TokenFingerprint;
use tessera_domain::model::{AttemptGrant, CodePurpose, VerificationCode};
use tessera_domain::ports::CodeStore;

use crate::db::{Database, unavailable, with_conn};
use crate::rows::naive;
use crate::schema::verification_codes as vc;

/// Verification codes in the `verification_codes` table (the embedded default;
/// Redis keeps them when configured).
#[derive(Debug, Clone)]
pub struct SqlCodes {
    db: Database,
}

impl SqlCodes {
    /// Codes stored in `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn purpose_name(p: CodePurpose) -> &'static str {
    match p {
        CodePurpose::VerifyEmail => "verify-email",
        CodePurpose::VerifyEmailLink => "verify-email-link",
        CodePurpose::SecondFactor => "second-factor",
        CodePurpose::PasskeyRegistration => "passkey-registration",
        CodePurpose::PasskeyAssertion => "passkey-assertion",
        CodePurpose::PasskeySignIn => "passkey-sign-in",
        CodePurpose::AuthorizationCode => "authorization-code",
        CodePurpose::AuthorizationCodeSpent => "authorization-code-spent",
        CodePurpose::PushedAuthorization => "pushed-authorization",
        CodePurpose::UpstreamState => "upstream-state",
        CodePurpose::UpstreamExchange => "upstream-exchange",
        CodePurpose::UpstreamLink => "upstream-link",
        CodePurpose::ContactChange => "contact-change",
        CodePurpose::ContactRevert => "contact-revert",
        CodePurpose::SignInCode => "sign-in-code",
        CodePurpose::ResetPassword => "reset-password",
        CodePurpose::Register => "register",
    }
}

type Row = (String, i32, chrono::NaiveDateTime, i32, i32, Option<String>);

fn to_code(purpose: CodePurpose, recipient: &str, r: Row) -> Option<VerificationCode> {
    let (fingerprint, digits, expires_at, attempts, max_attempts, binding) = r;
    let code = VerificationCode {
        purpose,
        recipient: recipient.to_owned(),
        fingerprint: TokenFingerprint(fingerprint),
        digits: u8::try_from(digits).ok()?,
        expires_at: expires_at.and_utc(),
        attempts: u32::try_from(attempts).ok()?,
        max_attempts: u32::try_from(max_attempts).ok()?,
        binding,
    };
    (code.expires_at > Utc::now()).then_some(code)
}

fn columns() -> (
    vc::fingerprint,
    vc::digits,
    vc::expires_at,
    vc::attempts,
    vc::max_attempts,
    vc::binding,
) {
    (
        vc::fingerprint,
        vc::digits,
        vc::expires_at,
        vc::attempts,
        vc::max_attempts,
        vc::binding,
    )
}

impl CodeStore for SqlCodes {
    async fn put(&self, code: &VerificationCode) -> Result<(), StoreError> {
        let purpose = purpose_name(code.purpose);
        let row = (
            vc::purpose.eq(purpose),
            vc::recipient.eq(code.recipient.clone()),
            vc::fingerprint.eq(code.fingerprint.0.clone()),
            vc::digits.eq(i32::from(code.digits)),
            vc::expires_at.eq(naive(code.expires_at)),
            vc::attempts.eq(i32::try_from(code.attempts).unwrap_or(i32::MAX)),
            vc::max_attempts.eq(i32::try_from(code.max_attempts).unwrap_or(i32::MAX)),
            vc::binding.eq(code.binding.clone()),
        );
        let recipient = code.recipient.clone();
        with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                diesel::delete(vc::table.filter(vc::purpose.eq(purpose)).filter(vc::recipient.eq(&recipient))).execute(c).await?;
                diesel::insert_into(vc::table).values(row.clone()).execute(c).await?;
                Ok(())
            })
            .await
            .map_err(unavailable)
        })
    }

    async fn get(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<Option<VerificationCode>, StoreError> {
        let name = purpose_name(purpose);
        let row: Option<Row> = with_conn!(&self.db, conn => {
            vc::table
                .filter(vc::purpose.eq(name))
                .filter(vc::recipient.eq(recipient))
                .select(columns())
                .first(conn)
                .await
                .optional()
                .map_err(unavailable)
        })?;
        Ok(row.and_then(|r| to_code(purpose, recipient, r)))
    }

    async fn claim_attempt(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<AttemptGrant, StoreError> {
        let name = purpose_name(purpose);
        let now = naive(Utc::now());
        let owned = recipient.to_owned();
        let (granted, row): (bool, Option<Row>) = with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                let live = vc::table.filter(vc::purpose.eq(name)).filter(vc::recipient.eq(&owned)).filter(vc::expires_at.gt(now));
                // One statement counts the attempt and checks the allowance:
                // it takes the row lock (MySQL) or the write lock (SQLite), so
                // concurrent callers are granted one at a time and the read
                // below sees this transaction's own count.
                let granted = diesel::update(live.filter(vc::attempts.lt(vc::max_attempts)))
                    .set(vc::attempts.eq(vc::attempts + 1))
                    .execute(c)
                    .await?;
                let row = live.select(columns()).first::<Row>(c).await.optional()?;
                Ok((granted == 1, row))
            })
            .await
            .map_err(unavailable)
        })?;
        Ok(match row.and_then(|r| to_code(purpose, recipient, r)) {
            None => AttemptGrant::NoCode,
            Some(code) if granted => AttemptGrant::Granted(code),
            Some(_) => AttemptGrant::Exhausted,
        })
    }

    async fn take(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<Option<VerificationCode>, StoreError> {
        let name = purpose_name(purpose);
        let owned = recipient.to_owned();
        let row: Option<Row> = with_conn!(write &self.db, conn => {
            conn.transaction(async |c| -> Result<_, DieselError> {
                let this = vc::table.filter(vc::purpose.eq(name)).filter(vc::recipient.eq(&owned));
                // Write first: a transaction that reads and then writes can
                // deadlock in SQLite ("database is locked"); this no-op takes
                // the write lock up front (and row locks in MySQL).
                diesel::update(this).set(vc::attempts.eq(vc::attempts)).execute(c).await?;
                let Some(row) = this.select(columns()).first::<Row>(c).await.optional()? else { return Ok(None) };
                // Only the caller whose DELETE removes the row gets the code.
                let deleted = diesel::delete(this).execute(c).await?;
                Ok((deleted == 1).then_some(row))
            })
            .await
            .map_err(unavailable)
        })?;
        Ok(row.and_then(|r| to_code(purpose, recipient, r)))
    }
}
