//! Mail: what Tessera sends, in which language, and how queued mail is delivered.
//!
//! Mail is never sent inline. A use case renders it ([`compose`]) and hands it
//! to the store together with the change that causes it, in one transaction
//! (the outbox). [`deliver_due`] then sends what is due, one step at a time,
//! retrying failures with capped exponential backoff, so an SMTP outage loses
//! nothing.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};

use crate::error::StoreError;
use crate::ports::{MailOutbox, Mailer, OutgoingMail};
use crate::values::Email;

/// The language of a mail or message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// Simplified Chinese.
    ZhCn,
    /// English (the default).
    #[default]
    En,
}

impl Locale {
    /// The first supported language of an `Accept-Language` header, else `default`.
    #[must_use]
    pub fn negotiate(header: Option<&str>, default: Self) -> Self {
        let Some(header) = header else { return default };
        let mut ranked: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                (!tag.is_empty()).then_some((q, tag))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked
            .into_iter()
            .filter(|(q, _)| *q > 0.0)
            .find_map(|(_, tag)| Self::from_tag(tag))
            .unwrap_or(default)
    }

    /// `zh`, `zh-CN`, `zh-Hans…` → Chinese; `en…` → English; anything else → none.
    #[must_use]
    pub fn from_tag(tag: &str) -> Option<Self> {
        let t = tag.trim().to_ascii_lowercase();
        if t == "zh" || t.starts_with("zh-") {
            Some(Self::ZhCn)
        } else if t == "en" || t.starts_with("en-") {
            Some(Self::En)
        } else {
            None
        }
    }
}

/// Branding and links of outgoing mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// The product name in subjects and bodies (`MAIL_PRODUCT_NAME`, default `Tessera`).
    pub product_name: String,
    /// The public URL links point to (`PUBLIC_BASE_URL`).
    pub public_base_url: String,
    /// The language when a request names none (`DEFAULT_LOCALE`).
    pub default_locale: Locale,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            product_name: "Tessera".into(),
            public_base_url: "http://127.0.0.1:8080".into(),
            default_locale: Locale::En,
        }
    }
}

/// What a mail is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailKind {
    /// A password-reset code.
    ResetCode {
        /// The account's username.
        username: String,
        /// The code.
        code: String,
        /// Minutes until it expires.
        minutes: i64,
    },
    /// A sign-up code (the account exists already, its address unverified;
    /// the code confirms the address, [`crate::AuthService::confirm_sign_up`]).
    SignUpCode {
        /// The name given at sign-up.
        name: String,
        /// The code.
        code: String,
        /// Minutes until it expires.
        minutes: i64,
    },
    /// Confirm the email address: a code and a link.
    VerifyEmail {
        /// The account's username.
        username: String,
        /// The code to type in.
        code: String,
        /// The link to open.
        link: String,
        /// Minutes until both expire.
        minutes: i64,
    },
    /// The account's second factors changed (issue 17): a notice, so that
    /// a change the owner did not make is seen.
    FactorChanged {
        /// The account's username.
        username: String,
        /// When.
        at: DateTime<Utc>,
        /// What changed.
        change: FactorChange,
    },
    /// A recovery code of the account was used to sign in (issue 17).
    RecoveryCodeUsed {
        /// The account's username.
        username: String,
        /// When.
        at: DateTime<Utc>,
        /// Recovery codes left unused.
        remaining: u32,
    },
    /// The password of the account was changed (or reset).
    PasswordChanged {
        /// The account's username.
        username: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The holder asked for the account's deletion (issue 20): when it
    /// happens, and that signing in before then cancels it.
    AccountDeletionScheduled {
        /// The account's username.
        username: String,
        /// When the account will be deleted.
        due_at: DateTime<Utc>,
    },
    /// A sign-in cancelled the account's scheduled deletion.
    AccountDeletionCancelled {
        /// The account's username.
        username: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The code that confirms a new e-mail address of the account (issue 20),
    /// sent to the new address.
    ContactChangeCode {
        /// The account's username.
        username: String,
        /// The code.
        code: String,
        /// Minutes until it expires.
        minutes: i64,
    },
    /// The account's e-mail address or phone number changed (issue 20),
    /// sent to the address it had before: what changed, and a link that
    /// undoes it and ends every session.
    ContactChanged {
        /// The account's username.
        username: String,
        /// Which contact changed.
        kind: crate::model::ContactKind,
        /// The new address or number.
        new_value: String,
        /// When.
        at: DateTime<Utc>,
        /// The revert link.
        link: String,
        /// Days the link works.
        days: i64,
    },
    /// A one-time code that signs in without a password (issue 20,
    /// `PASSWORDLESS_LOGIN`).
    SignInCode {
        /// The account's username.
        username: String,
        /// The code.
        code: String,
        /// Minutes until it expires.
        minutes: i64,
    },
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn html_page(title: &str, paragraphs: &[String]) -> String {
    let mut body = String::new();
    for p in paragraphs {
        let _ = write!(body, "<p>{}</p>", escape_html(p));
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.5\">{body}</body></html>",
        escape_html(title)
    )
}

/// What [`MailKind::FactorChanged`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorChange {
    /// Two-step verification was turned on (a TOTP factor confirmed).
    Enrolled,
    /// New recovery codes were issued (the old ones are void).
    RecoveryCodesIssued,
    /// Two-step verification was turned off by the owner.
    Removed,
    /// Two-step verification was turned off by an administrator.
    RemovedByAdministrator,
    /// Two-step verification was removed because the owner of the address
    /// claimed the account (a password reset by e-mail of an account whose
    /// address was not verified: the factor was the registrant's).
    RemovedByClaim,
}

/// Renders a mail: subject, plain-text part and HTML part, in `locale`.
#[must_use]
pub fn compose(
    kind: &MailKind,
    to: &Email,
    locale: Locale,
    settings: &MailSettings,
) -> OutgoingMail {
    let product = &settings.product_name;
    let (subject, paragraphs) = match (kind, locale) {
        (MailKind::ResetCode { username, code, minutes }, Locale::ZhCn) => (
            format!("【{product}】重置密码验证码"),
            vec![
                format!("{username}，您好："),
                format!("您的重置密码验证码是：{code}（{minutes} 分钟内有效）。"),
                "如果您没有申请重置密码，请忽略本邮件，您的密码不会改变。".to_owned(),
            ],
        ),
        (MailKind::ResetCode { username, code, minutes }, Locale::En) => (
            format!("[{product}] Your password reset code"),
            vec![
                format!("Hello {username},"),
                format!("Your password reset code is {code} (valid for {minutes} minutes)."),
                "If you did not ask to reset your password, ignore this mail; nothing changes.".to_owned(),
            ],
        ),
        (MailKind::SignUpCode { name, code, minutes }, Locale::ZhCn) => (
            format!("【{product}】注册验证码"),
            vec![
                format!("{name}，您好："),
                format!("您的注册验证码是：{code}（{minutes} 分钟内有效）。"),
                "如果您没有注册，说明有人填写了您的邮箱：用此邮箱重置密码即可接管该账户；也可以忽略本邮件。".to_owned(),
            ],
        ),
        (MailKind::SignUpCode { name, code, minutes }, Locale::En) => (
            format!("[{product}] Your sign-up code"),
            vec![
                format!("Hello {name},"),
                format!("Your sign-up code is {code} (valid for {minutes} minutes)."),
                "If you did not sign up, someone else gave your address: reset the password with this address to take the account over, or ignore this mail.".to_owned(),
            ],
        ),
        (MailKind::VerifyEmail { username, code, link, minutes }, Locale::ZhCn) => (
            format!("【{product}】请验证您的邮箱"),
            vec![
                format!("{username}，您好："),
                format!("您的邮箱验证码是：{code}（{minutes} 分钟内有效）。"),
                format!("也可以打开此链接完成验证：{link}"),
                format!("此邮件是为账户“{username}”发送的。如果不是您注册的，请打开链接并选择“不是我”，该账户将被删除。"),
            ],
        ),
        (MailKind::VerifyEmail { username, code, link, minutes }, Locale::En) => (
            format!("[{product}] Verify your email address"),
            vec![
                format!("Hello {username},"),
                format!("Your verification code is {code} (valid for {minutes} minutes)."),
                format!("Or open this link to verify: {link}"),
                format!("This mail is for the account \"{username}\". If you did not register it, open the link and choose \"This wasn't me\": the account is removed."),
            ],
        ),
        (MailKind::FactorChanged { username, at, change }, Locale::ZhCn) => {
            let what = match change {
                FactorChange::Enrolled => "开启了两步验证",
                FactorChange::RecoveryCodesIssued => "生成了新的恢复码（旧的已失效）",
                FactorChange::Removed => "关闭了两步验证",
                FactorChange::RemovedByAdministrator => "由管理员关闭了两步验证",
                FactorChange::RemovedByClaim => "在您通过邮箱认领账户时移除了他人设置的两步验证",
            };
            (
                format!("【{product}】两步验证设置已更改"),
                vec![
                    format!("{username}，您好："),
                    format!("您的 {product} 账户于 {} (UTC) {what}。", at.format("%Y-%m-%d %H:%M:%S")),
                    "如果这不是您本人的操作，请立即修改密码并检查两步验证设置。".to_owned(),
                ],
            )
        }
        (MailKind::FactorChanged { username, at, change }, Locale::En) => {
            let what = match change {
                FactorChange::Enrolled => "two-step verification was turned on",
                FactorChange::RecoveryCodesIssued => "new recovery codes were issued (the old ones no longer work)",
                FactorChange::Removed => "two-step verification was turned off",
                FactorChange::RemovedByAdministrator => "an administrator turned two-step verification off",
                FactorChange::RemovedByClaim => "the two-step verification someone else had set up was removed when you claimed the account by e-mail",
            };
            (
                format!("[{product}] Your two-step verification changed"),
                vec![
                    format!("Hello {username},"),
                    format!("On your {product} account, {what} at {} UTC.", at.format("%Y-%m-%d %H:%M:%S")),
                    "If this was not you, change your password and check your two-step verification now.".to_owned(),
                ],
            )
        }
        (MailKind::RecoveryCodeUsed { username, at, remaining }, Locale::ZhCn) => (
            format!("【{product}】有人使用了您的恢复码"),
            vec![
                format!("{username}，您好："),
                format!("您的 {product} 账户于 {} (UTC) 使用一个恢复码完成了两步验证登录，还剩 {remaining} 个未用的恢复码。", at.format("%Y-%m-%d %H:%M:%S")),
                "如果这不是您本人的操作，请立即修改密码并重新生成恢复码。".to_owned(),
            ],
        ),
        (MailKind::RecoveryCodeUsed { username, at, remaining }, Locale::En) => (
            format!("[{product}] A recovery code was used"),
            vec![
                format!("Hello {username},"),
                format!("A recovery code completed a two-step sign-in to your {product} account at {} UTC. {remaining} unused recovery codes are left.", at.format("%Y-%m-%d %H:%M:%S")),
                "If this was not you, change your password and generate new recovery codes now.".to_owned(),
            ],
        ),
        (MailKind::PasswordChanged { username, at }, Locale::ZhCn) => (
            format!("【{product}】您的密码已修改"),
            vec![
                format!("{username}，您好："),
                format!("您的 {product} 账户密码已于 {} (UTC) 修改。", at.format("%Y-%m-%d %H:%M:%S")),
                "除当前会话外，所有已登录的设备都已退出。如果这不是您本人的操作，请立即重置密码。".to_owned(),
            ],
        ),
        (MailKind::PasswordChanged { username, at }, Locale::En) => (
            format!("[{product}] Your password was changed"),
            vec![
                format!("Hello {username},"),
                format!("The password of your {product} account was changed at {} UTC.", at.format("%Y-%m-%d %H:%M:%S")),
                "Every other signed-in device was signed out. If this was not you, reset your password now.".to_owned(),
            ],
        ),
        (MailKind::AccountDeletionScheduled { username, due_at }, Locale::ZhCn) => (
            format!("【{product}】您的账户将被删除"),
            vec![
                format!("{username}，您好："),
                format!("您申请删除 {product} 账户。账户将于 {} (UTC) 被删除，其会话、两步验证、通行密钥和关联账号一并删除。", due_at.format("%Y-%m-%d %H:%M:%S")),
                "在此之前登录即可取消删除。如果这不是您本人的操作，请立即登录并修改密码。".to_owned(),
            ],
        ),
        (MailKind::AccountDeletionScheduled { username, due_at }, Locale::En) => (
            format!("[{product}] Your account will be deleted"),
            vec![
                format!("Hello {username},"),
                format!("You asked for your {product} account to be deleted. It will be deleted at {} UTC, with its sessions, two-step verification, passkeys and connected accounts.", due_at.format("%Y-%m-%d %H:%M:%S")),
                "Signing in before then cancels the deletion. If this was not you, sign in now and change your password.".to_owned(),
            ],
        ),
        (MailKind::AccountDeletionCancelled { username, at }, Locale::ZhCn) => (
            format!("【{product}】账户删除已取消"),
            vec![
                format!("{username}，您好："),
                format!("您的 {product} 账户于 {} (UTC) 登录，删除申请已取消，账户将保留。", at.format("%Y-%m-%d %H:%M:%S")),
            ],
        ),
        (MailKind::AccountDeletionCancelled { username, at }, Locale::En) => (
            format!("[{product}] Your account will not be deleted"),
            vec![
                format!("Hello {username},"),
                format!("A sign-in to your {product} account at {} UTC cancelled its deletion. The account stays.", at.format("%Y-%m-%d %H:%M:%S")),
            ],
        ),
        (MailKind::ContactChangeCode { username, code, minutes }, Locale::ZhCn) => (
            format!("【{product}】确认新的邮箱地址"),
            vec![
                format!("{username}，您好："),
                format!("您正在把 {product} 账户的邮箱改为本地址。验证码：{code}（{minutes} 分钟内有效）。"),
                "如果这不是您本人的操作，请忽略本邮件，账户不会改变。".to_owned(),
            ],
        ),
        (MailKind::ContactChangeCode { username, code, minutes }, Locale::En) => (
            format!("[{product}] Confirm your new e-mail address"),
            vec![
                format!("Hello {username},"),
                format!("You are changing the e-mail address of your {product} account to this one. Your code is {code} (valid for {minutes} minutes)."),
                "If this was not you, ignore this mail; nothing changes.".to_owned(),
            ],
        ),
        (MailKind::ContactChanged { username, kind, new_value, at, link, days }, Locale::ZhCn) => {
            let what = match kind {
                crate::model::ContactKind::Email => "邮箱地址",
                crate::model::ContactKind::Phone => "手机号",
            };
            (
                format!("【{product}】账户{what}已更改"),
                vec![
                    format!("{username}，您好："),
                    format!("您的 {product} 账户{what}已于 {} (UTC) 改为 {new_value}。", at.format("%Y-%m-%d %H:%M:%S")),
                    format!("如果这不是您本人的操作，请在 {days} 天内打开此链接撤销更改，所有已登录的设备都会退出：{link}"),
                ],
            )
        }
        (MailKind::ContactChanged { username, kind, new_value, at, link, days }, Locale::En) => {
            let what = match kind {
                crate::model::ContactKind::Email => "e-mail address",
                crate::model::ContactKind::Phone => "phone number",
            };
            (
                format!("[{product}] The {what} of your account changed"),
                vec![
                    format!("Hello {username},"),
                    format!("The {what} of your {product} account was changed to {new_value} at {} UTC.", at.format("%Y-%m-%d %H:%M:%S")),
                    format!("If this was not you, open this link within {days} days to undo the change; every signed-in device is signed out: {link}"),
                ],
            )
        }
        (MailKind::SignInCode { username, code, minutes }, Locale::ZhCn) => (
            format!("【{product}】登录验证码"),
            vec![
                format!("{username}，您好："),
                format!("您的登录验证码是：{code}（{minutes} 分钟内有效）。"),
                "如果这不是您本人的操作，请忽略本邮件；不要把验证码告诉任何人。".to_owned(),
            ],
        ),
        (MailKind::SignInCode { username, code, minutes }, Locale::En) => (
            format!("[{product}] Your sign-in code"),
            vec![
                format!("Hello {username},"),
                format!("Your sign-in code is {code} (valid for {minutes} minutes)."),
                "If this was not you, ignore this mail and never share the code.".to_owned(),
            ],
        ),
    };
    OutgoingMail {
        to: to.clone(),
        text: paragraphs.join("\n\n") + "\n",
        html: html_page(&subject, &paragraphs),
        subject,
    }
}

/// How queued mail is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Mails claimed per step.
    pub batch: usize,
    /// How long a claimed mail is reserved for one sender (others skip it meanwhile).
    pub lease: Duration,
    /// Delay after the first failure; doubled after each further one.
    pub retry_base: Duration,
    /// Longest delay between attempts. Mail is retried until it is sent.
    pub retry_max: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            batch: 20,
            lease: Duration::seconds(120),
            retry_base: Duration::seconds(5),
            retry_max: Duration::seconds(3600),
        }
    }
}

impl DeliveryPolicy {
    /// The delay before attempt `failures + 1`, after `failures` failures.
    #[must_use]
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 1i32 << failures.saturating_sub(1).min(20);
        (self.retry_base * factor).min(self.retry_max)
    }
}

/// What one delivery step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Mails sent.
    pub sent: usize,
    /// Mails that failed and were rescheduled.
    pub failed: usize,
}

/// Sends every due mail of `outbox` through `mailer` once; failures are
/// rescheduled with backoff. Call it in a loop (the server does, every
/// `OUTBOX_POLL_MS`).
///
/// # Errors
/// [`StoreError`] when the outbox cannot be read or updated.
pub async fn deliver_due<O: MailOutbox, M: Mailer>(
    outbox: &O,
    mailer: &M,
    now: DateTime<Utc>,
    policy: &DeliveryPolicy,
) -> Result<DeliveryReport, StoreError> {
    let mut report = DeliveryReport::default();
    for queued in outbox.claim_due(now, policy.batch, policy.lease).await? {
        match mailer.send(&queued.mail).await {
            Ok(()) => {
                outbox.mark_sent(queued.id, now).await?;
                report.sent += 1;
            }
            Err(e) => {
                let failures = queued.attempts + 1;
                outbox
                    .mark_failed(
                        queued.id,
                        failures,
                        now + policy.backoff(failures),
                        &e.to_string(),
                    )
                    .await?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_the_language() {
        assert_eq!(Locale::negotiate(None, Locale::ZhCn), Locale::ZhCn);
        assert_eq!(
            Locale::negotiate(Some("en-US,en;q=0.9"), Locale::ZhCn),
            Locale::En
        );
        assert_eq!(
            Locale::negotiate(Some("fr-FR, zh-CN;q=0.8, en;q=0.5"), Locale::En),
            Locale::ZhCn
        );
        assert_eq!(
            Locale::negotiate(Some("zh;q=0, en;q=0.1"), Locale::ZhCn),
            Locale::En
        );
        assert_eq!(Locale::negotiate(Some("de"), Locale::En), Locale::En);
    }

    #[test]
    fn composes_both_parts_and_escapes_html() {
        let kind = MailKind::PasswordChanged {
            username: "<alice>".into(),
            at: Utc::now(),
        };
        let to = Email::parse("a@b.com").unwrap_or_else(|_| Email::from_stored("a@b.com".into()));
        let zh = compose(&kind, &to, Locale::ZhCn, &MailSettings::default());
        assert!(zh.subject.contains("密码已修改") && zh.text.contains("<alice>"));
        assert!(zh.html.contains("&lt;alice&gt;") && !zh.html.contains("<alice>"));
        let en = compose(
            &kind,
            &to,
            Locale::En,
            &MailSettings {
                product_name: "Acme".into(),
                ..MailSettings::default()
            },
        );
        assert_eq!(en.subject, "[Acme] Your password was changed");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = DeliveryPolicy {
            retry_base: Duration::seconds(5),
            retry_max: Duration::seconds(60),
            ..DeliveryPolicy::default()
        };
        let delays: Vec<i64> = (1..=6).map(|n| p.backoff(n).num_seconds()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 60, 60]);
        assert_eq!(p.backoff(1000).num_seconds(), 60);
    }
}
