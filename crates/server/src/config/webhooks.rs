//! Webhooks (issue 20): `WEBHOOK_FIRST_RETRY`, `WEBHOOK_GIVE_UP_AFTER`; the
//! access-token hook: `ACCESS_TOKEN_HOOK_URL`, `ACCESS_TOKEN_HOOK_SECRET`,
//! `ACCESS_TOKEN_HOOK_TIMEOUT_MS`, `ACCESS_TOKEN_HOOK_FAIL_OPEN`.

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

/// The access-token hook (issue 20).
#[derive(Clone, Default)]
pub struct TokenHookConfig {
    /// `ACCESS_TOKEN_HOOK_URL` (`https://`, or `http://` to a loopback
    /// address) with `ACCESS_TOKEN_HOOK_SECRET` (`whsec_` and base64: the
    /// Standard Webhooks signing key of its calls) and
    /// `ACCESS_TOKEN_HOOK_TIMEOUT_MS` (default 2,000; 100 to 30,000); `None`
    /// without a URL.
    pub target: Option<tessera_webhooks::TokenHookTarget>,
    /// `ACCESS_TOKEN_HOOK_FAIL_OPEN`, default false: on a failed call, sign
    /// the token without custom claims instead of refusing (503).
    pub fail_open: bool,
}

impl std::fmt::Debug for TokenHookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenHookConfig")
            .field("target", &self.target)
            .field("fail_open", &self.fail_open)
            .finish()
    }
}

/// Reads and checks the access-token hook's settings.
pub(crate) fn read_token_hook(r: &Reader<'_>) -> Result<TokenHookConfig, ConfigError> {
    let fail_open = r.bool("ACCESS_TOKEN_HOOK_FAIL_OPEN", false)?;
    let timeout = r.millis(
        "ACCESS_TOKEN_HOOK_TIMEOUT_MS",
        tessera_webhooks::DEFAULT_TIMEOUT_MS,
    )?;
    let secret = r.string("ACCESS_TOKEN_HOOK_SECRET");
    let Some(url) = r
        .string("ACCESS_TOKEN_HOOK_URL")
        .filter(|u| !u.trim().is_empty())
    else {
        return Ok(TokenHookConfig {
            target: None,
            fail_open,
        });
    };
    let url = url.trim().to_owned();
    tessera_domain::model::check_endpoint_url(&url).map_err(|p| ConfigError::Invalid {
        name: "ACCESS_TOKEN_HOOK_URL",
        reason: format!(
            "{p:?}: an absolute https:// URL (or http:// to localhost), without credentials or fragment"
        ),
    })?;
    let Some(secret) = secret else {
        return Err(ConfigError::Invalid {
            name: "ACCESS_TOKEN_HOOK_SECRET",
            reason: "required with ACCESS_TOKEN_HOOK_URL: whsec_ and base64, e.g. from `tessera webhook secret`".to_owned(),
        });
    };
    let ms = timeout.as_millis();
    if !(100..=30_000).contains(&ms) {
        return Err(ConfigError::Invalid {
            name: "ACCESS_TOKEN_HOOK_TIMEOUT_MS",
            reason: format!("{ms}: 100 to 30000 milliseconds"),
        });
    }
    let target = tessera_webhooks::TokenHookTarget {
        url,
        secret,
        timeout,
    };
    // The secret's form is checked now, not at the first sign-in.
    tessera_webhooks::HttpAccessTokenHook::new(target.clone()).map_err(|reason| {
        ConfigError::Invalid {
            name: "ACCESS_TOKEN_HOOK_SECRET",
            reason,
        }
    })?;
    Ok(TokenHookConfig {
        target: Some(target),
        fail_open,
    })
}
