use std::collections::HashMap;

use chrono::Utc;
use deadpool_redis::redis::{self, Script};
use tessera_domain::error::StoreError;
use tessera_domain::model::TokenFingerprint;
use tessera_domain::model::{AttemptGrant, CodePurpose, VerificationCode};
use tessera_domain::ports::CodeStore;

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
        };
        self.redis.key(format_args!("code:{p}:{recipient}"))
    }
}

const PUT: &str = r"
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'digits', ARGV[2], 'expires_at', ARGV[3], 'attempts', ARGV[4], 'max_attempts', ARGV[5])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'binding', string.sub(ARGV[7], 2)) end
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
return 1
";

/// Counts one comparison before it is made, atomically: the code's fields
/// plus `granted` (`1` or `0`); nothing when there is no code.
const CLAIM: &str = r"
local a = redis.call('HMGET', KEYS[1], 'attempts', 'max_attempts')
if not a[1] or not a[2] then return {} end
local granted = 0
if tonumber(a[1]) < tonumber(a[2]) then
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  granted = 1
end
local h = redis.call('HGETALL', KEYS[1])
table.insert(h, 'granted')
table.insert(h, tostring(granted))
return h
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
        binding: h.get("binding").cloned(),
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
            .arg(code.expires_at.timestamp_millis().max(1).to_string())
            // "" for none, else the binding behind a one-character marker (an
            // empty binding stays distinguishable from none).
            .arg(
                code.binding
                    .as_ref()
                    .map_or_else(String::new, |b| format!("={b}")),
            );
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

    async fn claim_attempt(
        &self,
        purpose: CodePurpose,
        recipient: &str,
    ) -> Result<AttemptGrant, StoreError> {
        let script = Script::new(CLAIM);
        let inv = script.key(self.key(purpose, recipient));
        let h: HashMap<String, String> = self.redis.script(&inv).await?;
        let granted = h.get("granted").map(String::as_str) == Some("1");
        Ok(match parse(purpose, recipient, &h) {
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
        let script = Script::new(TAKE);
        let inv = script.key(self.key(purpose, recipient));
        let h: HashMap<String, String> = self.redis.script(&inv).await?;
        Ok(parse(purpose, recipient, &h))
    }
}
