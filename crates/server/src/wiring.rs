//! The ports the `tessera` binary uses: `tessera-embed`'s SQL store (which
//! adapters serve which configuration is documented there, in
//! `tessera_embed::SqlStack`) with an audit trail that also logs and counts.

use tessera_domain::error::StoreError;
use tessera_domain::settings::{LinkTemplate, TokenProfile, VerificationLinks};
use tessera_domain::{AuthService, AuthSettings};

/// The token profile of seed 001's routes, whose clients cannot refresh
/// (`LEGACY_ACCESS_TOKEN_TTL`).
pub const LEGACY_TOKENS: &str = "legacy";

/// The token profile of seed 002's routes (`V1_ACCESS_TOKEN_TTL`).
pub const V1_TOKENS: &str = "v1";

use crate::config::{Config, ConfigError};

/// The binary's ports: the SQL store of `tessera-embed`, audited through [`LoggedAudit`].
pub type ServerPorts = tessera_embed::SqlStack<LoggedAudit>;

/// The service the binary runs.
pub type ServerAuth = AuthService<ServerPorts>;

/// The audit trail: a structured log line (target `tessera::audit`) for every
/// event, then a row in `audit_log`. A failing table is logged, never hidden.
#[derive(Debug, Clone)]
pub struct LoggedAudit(
    pub tessera_sql::SqlAudit,
    pub std::sync::Arc<crate::metrics::Metrics>,
);

impl tessera_domain::ports::AuditLog for LoggedAudit {
    async fn record(&self, e: &tessera_domain::model::AuditEvent) -> Result<(), StoreError> {
        tracing::info!(
            target: "tessera::audit",
            kind = e.kind.as_str(),
            actor = e.actor.map(|u| u.0),
            subject = e.subject.map(|u| u.0),
            identifier = e.identifier.as_deref(),
            ip = e.client.ip.as_deref(),
            user_agent = e.client.user_agent.as_deref(),
            detail = e.detail.as_deref(),
            "audit"
        );
        self.1.observe_audit(e.kind.as_str());
        let stored = self.0.record(e).await;
        if let Err(cause) = &stored {
            tracing::error!(target: "tessera::audit", %cause, kind = e.kind.as_str(), "audit row not stored");
        }
        stored
    }

    async fn query(
        &self,
        query: &tessera_domain::model::AuditQuery,
    ) -> Result<tessera_domain::model::AuditPage, StoreError> {
        self.0.query(query).await
    }
}

fn span(name: &'static str, d: std::time::Duration) -> Result<chrono::Duration, ConfigError> {
    chrono::Duration::from_std(d).map_err(|e| ConfigError::Invalid {
        name,
        reason: e.to_string(),
    })
}

/// The use-case settings a configuration asks for.
///
/// # Errors
/// [`ConfigError::Invalid`] when a duration is out of range.
pub fn auth_settings(config: &Config) -> Result<AuthSettings, ConfigError> {
    Ok(AuthSettings {
        access_ttl: span("ACCESS_TOKEN_TTL", config.tokens.access_ttl)?,
        token_profiles: vec![
            TokenProfile {
                name: LEGACY_TOKENS.into(),
                access_ttl: span("LEGACY_ACCESS_TOKEN_TTL", config.tokens.legacy_access_ttl)?,
            },
            TokenProfile {
                name: V1_TOKENS.into(),
                access_ttl: span("V1_ACCESS_TOKEN_TTL", config.tokens.v1_access_ttl)?,
            },
        ],
        verification_links: VerificationLinks {
            page: LinkTemplate {
                tag: "modern".into(),
                path: "/api/auth/verify-email?token={token}".into(),
            },
            direct: LinkTemplate {
                tag: "v1".into(),
                path: "/api/v1/auth/verify/{token}".into(),
            },
        },
        refresh_ttl: span("REFRESH_TOKEN_TTL", config.tokens.refresh_ttl)?,
        idle_ttl: span("SESSION_IDLE_TTL", config.tokens.idle_ttl)?,
        reuse_interval: span(
            "REFRESH_REUSE_INTERVAL",
            config.tokens.refresh_reuse_interval,
        )?,
        leeway: span("JWT_LEEWAY", config.tokens.leeway)?,
        password_policy: config.passwords.policy.clone(),
        username_policy: config.accounts.username_policy,
        registrable_roles: config.accounts.registrable_roles.clone(),
        default_role: config.accounts.default_role.clone(),
        admin_login_roles: config.accounts.admin_login_roles.clone(),
        mfa_required_roles: config.accounts.mfa_required_roles.clone(),
        mail: config.messaging.mail.clone(),
        codes: tessera_domain::settings::CodeSettings {
            ttl: span("VERIFICATION_CODE_TTL", config.verification.code_ttl)?,
            ..tessera_domain::settings::CodeSettings::default()
        },
        require_verified_email: config.verification.require_verified_email,
        unverified_account_ttl: config
            .verification
            .unverified_account_ttl
            .map(|d| span("UNVERIFIED_ACCOUNT_TTL", d))
            .transpose()?,
        phone_region: config.accounts.phone_region,
        account_deletion_grace: span("ACCOUNT_DELETION_GRACE", config.accounts.deletion_grace)?,
        passwordless_login: config.accounts.passwordless_login,
        // Issue 20: a change of address may be undone for 7 days.
        contact_revert_ttl: chrono::Duration::days(7),
        second_factor: tessera_domain::settings::SecondFactorSettings {
            reauth_max_age: chrono::Duration::from_std(config.tokens.reauth_max_age)
                .unwrap_or(chrono::Duration::MAX),
            ..tessera_domain::settings::SecondFactorSettings::default()
        },
        expose_debug_codes: config.environment == crate::config::Environment::Development,
        login_throttle: config.login_throttle,
        max_sessions_per_user: config.tokens.max_sessions_per_user,
        upstream: tessera_domain::settings::UpstreamSettings {
            providers: config.upstream.clone(),
            callback_base: config.messaging.mail.public_base_url.clone(),
        },
        webhooks: tessera_domain::settings::WebhookSettings {
            retry: config.webhook_retry,
            token_hook_fail_open: config.token_hook.fail_open,
        },
        provider: tessera_domain::settings::ProviderSettings {
            issuer: config.provider.issuer.clone(),
            code_ttl: chrono::Duration::seconds(
                i64::try_from(config.provider.code_ttl_secs).unwrap_or(60),
            ),
        },
    })
}
