//! Per-client-IP rate limits (`RATE_LIMIT_*`) and the headers of a refusal.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use tessera_domain::ports::Ports;

use super::{AppState, client_ip};

/// Counts a request of `bucket` against the client IP's limit.
///
/// # Errors
/// [`AuthError::TooManyRequests`] over the limit; [`AuthError::Unavailable`]
/// when the counters cannot be reached.
pub async fn limit_ip<P: Ports>(
    state: &AppState<P>,
    req: &HttpRequest,
    bucket: crate::config::Bucket,
) -> Result<(), tessera_domain::AuthError> {
    let Some(limit) = state.rate_limits.get(bucket) else {
        return Ok(());
    };
    let ip =
        client_ip(req, &state.trusted_proxies).map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let d = state
        .auth
        .count_request(
            &format!("ip:{}:{ip}", bucket.as_str()),
            limit.limit,
            limit.window_secs,
        )
        .await?;
    if d.allowed {
        Ok(())
    } else {
        Err(tessera_domain::AuthError::TooManyRequests {
            retry_after_secs: d.reset_after_secs.max(1),
            limit: limit.limit,
        })
    }
}

/// `Retry-After` and the `RateLimit-*` fields (IETF draft) of a refusal.
pub fn rate_limit_headers(r: &mut HttpResponse, retry_after_secs: u64, limit: u32) {
    let h = r.headers_mut();
    for (name, value) in [
        ("retry-after", retry_after_secs.to_string()),
        ("ratelimit-limit", limit.to_string()),
        ("ratelimit-remaining", "0".to_owned()),
        ("ratelimit-reset", retry_after_secs.to_string()),
    ] {
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            h.insert(header::HeaderName::from_static(name), v);
        }
    }
}
