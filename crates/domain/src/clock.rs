//! Time and identifiers, as ports so tests can control them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The current time.
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A source of fresh unique identifiers (session ids, token ids, public user ids).
pub trait IdSource: Send + Sync + 'static {
    /// A new random (version 4) UUID.
    fn new_uuid(&self) -> Uuid;

    /// `n` (at most 18) decimal digits from the same randomness, for
    /// verification codes. 122 random bits reduced modulo 10^n: the bias is
    /// far below one in 10^18.
    fn secret_digits(&self, n: u8) -> String {
        let n = u32::from(n.clamp(1, 18));
        let value = self.new_uuid().as_u128() % 10u128.pow(n);
        format!("{value:0width$}", width = n as usize)
    }

    /// A 244-bit random secret as 64 hex characters (two v4 UUIDs), for links.
    fn secret_token(&self) -> String {
        format!("{}{}", self.new_uuid().simple(), self.new_uuid().simple())
    }
}

/// Random v4 UUIDs from the operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn new_uuid(&self) -> Uuid {
        Uuid::new_v4()
    }
}
