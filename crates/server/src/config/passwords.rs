//! Password hashing and policy: `ARGON2_*`, `HASH_MAX_*`, `PASSWORD_*`.

use tessera_crypto::{Argon2Params, HasherLimits};
use tessera_domain::values::PasswordPolicy;

use super::ConfigError;
use super::source::Reader;

/// How passwords are hashed and what a new one must satisfy.
#[derive(Debug, Clone)]
pub struct PasswordSettings {
    /// `ARGON2_MEMORY_KIB` (19456), `ARGON2_ITERATIONS` (2), `ARGON2_PARALLELISM` (1).
    pub argon2: Argon2Params,
    /// `HASH_MAX_IN_FLIGHT` (CPUs), `HASH_MAX_WAITING` (32 × CPUs).
    pub hasher_limits: HasherLimits,
    /// `PASSWORD_MIN_LENGTH` (8), `PASSWORD_MAX_LENGTH` (256), `PASSWORD_REQUIRE_MIXED` (false),
    /// `PASSWORD_MIN_SCORE` (zxcvbn score 0-4, default 3; `PASSWORD_REJECT_COMMON=false`
    /// means 0 when `PASSWORD_MIN_SCORE` is not set).
    pub policy: PasswordPolicy,
}

impl PasswordSettings {
    /// Reads and checks the section.
    pub(crate) fn read(r: &Reader<'_>) -> Result<Self, ConfigError> {
        let policy = PasswordPolicy {
            min_chars: r.parse("PASSWORD_MIN_LENGTH", 8)?,
            max_chars: r.parse("PASSWORD_MAX_LENGTH", 256)?,
            require_mixed: r.bool("PASSWORD_REQUIRE_MIXED", false)?,
            // PASSWORD_REJECT_COMMON (the list this replaced) keeps its
            // meaning: `false` turns the screening off unless a score is set.
            min_score: if r.string("PASSWORD_MIN_SCORE").is_some() {
                r.parse("PASSWORD_MIN_SCORE", PasswordPolicy::DEFAULT_MIN_SCORE)?
            } else if r.bool("PASSWORD_REJECT_COMMON", true)? {
                PasswordPolicy::DEFAULT_MIN_SCORE
            } else {
                0
            },
        };
        r.default_shown("PASSWORD_MIN_SCORE", &policy.min_score.to_string());
        if policy.min_score > PasswordPolicy::MAX_SCORE {
            return Err(ConfigError::Invalid {
                name: "PASSWORD_MIN_SCORE",
                reason: "must be a zxcvbn score from 0 to 4".into(),
            });
        }
        if policy.min_chars == 0 || policy.min_chars > policy.max_chars {
            return Err(ConfigError::Invalid {
                name: "PASSWORD_MIN_LENGTH",
                reason: "must be at least 1 and at most PASSWORD_MAX_LENGTH".into(),
            });
        }
        let (argon2, limits) = (Argon2Params::default(), HasherLimits::default());
        Ok(Self {
            argon2: Argon2Params {
                memory_kib: r.parse("ARGON2_MEMORY_KIB", argon2.memory_kib)?,
                iterations: r.parse("ARGON2_ITERATIONS", argon2.iterations)?,
                parallelism: r.parse("ARGON2_PARALLELISM", argon2.parallelism)?,
            },
            hasher_limits: HasherLimits {
                max_in_flight: r.parse("HASH_MAX_IN_FLIGHT", limits.max_in_flight)?,
                max_waiting: r.parse("HASH_MAX_WAITING", limits.max_waiting)?,
            },
            policy,
        })
    }
}
