//! Webhooks (issue 20): `WEBHOOK_FIRST_RETRY`, `WEBHOOK_GIVE_UP_AFTER`.

use tessera_domain::model::RetryPolicy;

use super::ConfigError;
use super::source::Reader;

/// When failed webhook deliveries are tried again:
/// `WEBHOOK_FIRST_RETRY` seconds after the first failure (default 5, 1 to
/// 3,600), twice as long each time up to 6 hours, until
/// `WEBHOOK_GIVE_UP_AFTER` seconds have passed since the event (default
/// 259,200: 3 days; 60 to 2,592,000).
pub(crate) fn read(r: &Reader<'_>) -> Result<RetryPolicy, ConfigError> {
    let defaults = RetryPolicy::default();
    let first_retry_secs = r
        .seconds("WEBHOOK_FIRST_RETRY", defaults.first_retry_secs)?
        .as_secs();
    if !(1..=3_600).contains(&first_retry_secs) {
        return Err(ConfigError::Invalid {
            name: "WEBHOOK_FIRST_RETRY",
            reason: format!("{first_retry_secs}: 1 to 3600 seconds"),
        });
    }
    let give_up_after_secs = r
        .seconds("WEBHOOK_GIVE_UP_AFTER", defaults.give_up_after_secs)?
        .as_secs();
    if !(60..=30 * 86_400).contains(&give_up_after_secs) {
        return Err(ConfigError::Invalid {
            name: "WEBHOOK_GIVE_UP_AFTER",
            reason: format!("{give_up_after_secs}: 60 seconds to 30 days"),
        });
    }
    Ok(RetryPolicy {
        first_retry_secs,
        give_up_after_secs,
        ..defaults
    })
}
