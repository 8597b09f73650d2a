//! What every handler can reach: [`AppState`].

use tessera_domain::AuthService;
use tessera_domain::ports::Ports;

/// What every handler can reach.
pub struct AppState<P: Ports> {
    /// The use cases.
    pub auth: AuthService<P>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Per-client-IP limits.
    pub rate_limits: crate::config::RateLimits,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// What `/ready` checks.
    pub readiness: crate::ready::Readiness,
    /// `V1_VERIFY_ON_GET`: seed 002's link confirms on a GET that asks for
    /// JSON (its contract) instead of showing the page (default false).
    pub v1_verify_on_get: bool,
}
