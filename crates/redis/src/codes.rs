use std::collections::HashMap;

use chrono::Utc;
use deadpool_redis::redis::{self, Script};
use tessera_domain::code::{CodePurpose, VerificationCode};
use tessera_domain::error::StoreError;
use tessera_domain::ports::CodeStore;
use tessera_domain::token::TokenFingerprint;

use crate::{Redis, from_micros, micros};

/// Codes as hashes `<prefix>code:<purpose>:<recipient>`, expiring with the code.
#[derive(Debug, Clone)]
pub struct RedisCodes {
    redis: Redis,
}

impl RedisCodes {
    /// A code store in `redis`.
    #[must_use]
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn key(&self, purpose: CodePurpose, recipient: &str) -> String {
        let p = match purpose {
            CodePurpose::VerifyEmail => "verify-email",
            CodePurpose::ResetPassword => "reset-password",
            CodePurpose::Register => "register",
            CodePurpose::VerifyEmailLink => "verify-email-link",
        };
        self.redis.key(format_args!("code:{p}:{recipient}"))
    }
}

const PUT: &str = r"
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'digits', ARGV[2], 'expires_at', ARGV[3], 'attempts', ARGV[4], 'max_attempts', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
return 1
";

const FAIL: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('HINCRBY', KEYS[1], 'attempts', 1)
";

const TAKE: &str = r"
local h = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return h
";

fn parse(
    purpose: CodePurpose,
    recipient: &str,
    h: &HashMap<String, String>,
) -> Option<VerificationCode> {
    let int = |k: &str| h.get(k)?.parse::<i64>().ok();
    let code = VerificationCode {
        purpose,
        recipient: recipient.to_owned(),
        fingerprint: TokenFingerprint(h.get("fingerprint")?.clone()),
        digits: u8::try_from(int("digits")?).ok()?,
        expires_at: from_micros(int("expires_at")?)?,
        attempts: u32::try_from(int("attempts")?).ok()?,
        max_attempts: u32::try_from(int("max_attempts")?).ok()?,
    };
    (code.expires_at > Utc::now()).then_some(code)
}

impl CodeStore for RedisCodes {
    async fn put(&self, code: &VerificationCode) -> Result<(), StoreError> {
        let script = Script::new(PUT);
        let mut inv = script.key(self.key(code.purpose, &code.recipient));
        inv.arg(&code.fingerprint.0)
            .arg(code.digits.to_string())
            .arg(micros(code.expires_at).to_string())
            .arg(code.attempts.to_string())
            .arg(code.max_attempts.to_string())
            .arg(code.expires_at.timestamp_millis().max(1).to_string());
        self.redis.script::<i64>(&inv).await.map(|_| ())
    }

    async fn get(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<Option<VerificationCode>, StoreError> {
        let h: HashMap<String, String> = self
            .redis
            .query(redis::cmd("HGETALL").arg(self.key(purpose, recipient)))
            .await?;
        Ok(parse(purpose, recipient, &h))
    }

    async fn record_failure(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<Option<u32>, StoreError> {
        let script = Script::new(FAIL);
        let inv = script.key(self.key(purpose, recipient));
        let n: Option<i64> = self.redis.script(&inv).await?;
        Ok(n.and_then(|n| u32::try_from(n).ok()))
    }

    async fn take(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<Option<VerificationCode>, StoreError> {
        let script = Script::new(TAKE);
        let inv = script.key(self.key(purpose, recipient));
        let h: HashMap<String, String> = self.redis.script(&inv).await?;
        Ok(parse(purpose, recipient, &h))
    }
}
