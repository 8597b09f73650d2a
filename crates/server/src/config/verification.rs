//! Verification of addresses: `VERIFICATION_CODE_TTL`, `REQUIRE_VERIFIED_EMAIL`,
//! `UNVERIFIED_ACCOUNT_TTL`, `V1_VERIFY_ON_GET`.

use std::time::Duration;

use super::ConfigError;
use super::source::Reader;

/// How mailed codes and links work and what an unverified account may do.
#[derive(Debug, Clone, Copy)]
pub struct VerificationSettings {
    /// `VERIFICATION_CODE_TTL` seconds, default 600: lifetime of mailed codes and links.
    pub code_ttl: Duration,
    /// `REQUIRE_VERIFIED_EMAIL`, default false (the seeds let unverified users log in).
    pub require_verified_email: bool,
    /// `UNVERIFIED_ACCOUNT_TTL` seconds or `off`: an account whose address is
    /// still unverified after this long is a pending registration that a new
    /// registration of the address replaces and the expiry sweep removes.
    /// Default 604 800 (7 days) with `REQUIRE_VERIFIED_EMAIL`, `off` without
    /// (then unverified accounts are ordinary accounts in use).
    pub unverified_account_ttl: Option<Duration>,
    /// `V1_VERIFY_ON_GET`, default false: seed 002's `GET
    /// /api/v1/auth/verify/<token>` confirms the address for a client that
    /// does not ask for HTML, as seed 002's contract says. Off, every GET of
    /// the link shows its page, which confirms only with the account's
    /// password (a GET without it could hand the address to someone else's
    /// password: docs/security.md, "Pre-account hijacking").
    pub v1_verify_on_get: bool,
}

impl VerificationSettings {
    /// Reads the section.
    pub(crate) fn read(r: &Reader<'_>) -> Result<Self, ConfigError> {
        let require_verified_email = r.bool("REQUIRE_VERIFIED_EMAIL", false)?;
        Ok(Self {
            code_ttl: r.seconds(
                "VERIFICATION_CODE_TTL",
                tessera_domain::settings::DEFAULT_CODE_TTL_SECS.unsigned_abs(),
            )?,
            require_verified_email,
            unverified_account_ttl: match r.string("UNVERIFIED_ACCOUNT_TTL") {
                Some(v) if v.eq_ignore_ascii_case("off") => None,
                Some(_) => Some(r.seconds("UNVERIFIED_ACCOUNT_TTL", 0)?).filter(|d| !d.is_zero()),
                None => require_verified_email.then_some(Duration::from_secs(7 * 24 * 3600)),
            },
            v1_verify_on_get: r.bool("V1_VERIFY_ON_GET", false)?,
        })
    }
}
