//! Human-readable texts in zh-CN and en. The language of a request is chosen
//! once, by [`negotiate`] in the request middleware, and every text of that
//! request reads it from a task-local ([`current`]), so error bodies built far
//! from the request (in `ResponseError`) still speak the client's language.
//! Machine-readable fields (HTTP status, `Code`, `code`, `fields`) are never
//! here and never change with language.

use tessera_domain::mail::Locale;
use tessera_domain::validation::{FieldIssue, PasswordSuggestion, PasswordWarning};

tokio::task_local! {
    static LANG: Locale;
}

/// Runs `fut` with `lang` as the language of every text it produces.
pub fn scope<F: std::future::Future>(
    lang: Locale,
    fut: F,
) -> tokio::task::futures::TaskLocalFuture<Locale, F> {
    LANG.scope(lang, fut)
}

/// Runs `f` with `lang` as the language of every text it produces, outside
/// a request (the command line).
pub fn in_locale<R>(lang: Locale, f: impl FnOnce() -> R) -> R {
    LANG.sync_scope(lang, f)
}

/// The language of the request being served (outside a request and outside
/// [`in_locale`], the domain's default, English).
#[must_use]
pub fn current() -> Locale {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// The language for a request to `path`: the first supported one of its
/// `Accept-Language`, else the dialect's default — English for seed 002's
/// `/api/v1/` (its contract is English), `DEFAULT_LOCALE` elsewhere.
#[must_use]
pub fn negotiate(path: &str, accept_language: Option<&str>, default: Locale) -> Locale {
    let default = if super::DialectKind::of(path) == super::DialectKind::V1 {
        Locale::En
    } else {
        default
    };
    Locale::negotiate(accept_language, default)
}

/// One text in both languages.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    zh: &'static str,
    en: &'static str,
}

impl Text {
    const fn new(zh: &'static str, en: &'static str) -> Self {
        Self { zh, en }
    }

    /// The text in the current request's language.
    #[must_use]
    pub fn get(self) -> &'static str {
        self.in_locale(current())
    }

    /// The text in `locale`.
    #[must_use]
    pub const fn in_locale(self, locale: Locale) -> &'static str {
        match locale {
            Locale::ZhCn => self.zh,
            Locale::En => self.en,
        }
    }
}

fn zh() -> bool {
    current() == Locale::ZhCn
}

// Shared.
pub const OK: Text = Text::new("成功", "Success");
pub const NOT_FOUND: Text = Text::new("接口不存在", "Not found");
pub const METHOD_NOT_ALLOWED: Text = Text::new("请求方法不允许", "Method not allowed");

// /api/auth and /api/admin.
pub const FORBIDDEN: Text = Text::new(
    "没有执行此操作的权限",
    "You do not have permission to do this",
);
pub const OUTRANKED: Text = Text::new(
    "该账户或角色的级别高于您的角色，您只能查看",
    "That account or role ranks above yours: you may read it but not change it",
);
pub const SELF_LOCKOUT: Text = Text::new(
    "不能禁用或删除自己的账户，也不能移除自己的管理员角色",
    "You cannot disable or delete your own account, or remove your own admin role",
);
pub const VALIDATION: Text = Text::new("验证失败", "Validation failed");
pub const VALIDATION_DETAIL: Text =
    Text::new("请求参数验证失败", "The request parameters are invalid");
pub const INVALID_JSON: Text = Text::new(
    "请求体必须是有效的 JSON 对象",
    "The request body must be a JSON object",
);
pub const BODY_TOO_LARGE: Text = Text::new("请求体过大", "Request body too large");
pub const BODY_TIMEOUT: Text =
    Text::new("请求体接收超时", "The request body did not arrive in time");
pub const BODY_READ: Text = Text::new("读取请求体失败", "The request body could not be read");
pub const REGISTERED: Text = Text::new("用户注册成功", "User registered");
pub const LOGGED_IN: Text = Text::new("登录成功", "Logged in");
pub const INVALID_CREDENTIALS: Text = Text::new("用户名或密码错误", "Invalid username or password");
pub const MFA_REQUIRED: Text = Text::new(
    "需要两步验证：请输入验证器应用中的验证码或一个恢复码",
    "Two-step verification required: enter the code from your authenticator app or a recovery code",
);
pub const MFA_ENROLMENT_REQUIRED: Text = Text::new(
    "需要先设置两步验证：您的角色要求验证器应用或通行密钥（用 mfa_token 调用 /api/auth/mfa/enrol/totp 或 /api/auth/mfa/enrol/passkey/options，再调用 /api/auth/mfa/verify）",
    "Two-step verification must be set up first: your role requires an authenticator app or a passkey (send mfa_token to /api/auth/mfa/enrol/totp or /api/auth/mfa/enrol/passkey/options, then to /api/auth/mfa/verify)",
);
pub const MFA_TOKEN_INVALID: Text = Text::new(
    "两步验证已过期或无效，请重新登录",
    "The two-step verification has expired or is invalid: sign in again",
);
pub const REAUTHENTICATION_REQUIRED: Text = Text::new(
    "此操作需要最近的登录：请重新登录后再试",
    "This needs a recent sign-in: sign in again, then retry",
);
pub const FACTOR_EXISTS: Text = Text::new("已启用该验证方式", "That factor is already enrolled");
pub const FACTOR_NOT_ENROLLED: Text = Text::new("未启用该验证方式", "That factor is not enrolled");
pub const PASSKEY_REFUSED: Text = Text::new(
    "通行密钥验证未通过或已过期，请重试",
    "The passkey was not accepted or the attempt expired: try again",
);
pub const PASSKEY_ADDED: Text = Text::new("已添加通行密钥", "Passkey added");
pub const PASSKEY_RENAMED: Text = Text::new("已重命名通行密钥", "Passkey renamed");
pub const PASSKEY_REMOVED: Text = Text::new("已删除通行密钥", "Passkey removed");
pub const PASSWORDLESS_LOGIN_DISABLED: Text = Text::new(
    "本服务未开启验证码登录",
    "Sign-in by code is not enabled on this server",
);
pub const SIGN_IN_CODE_SENT: Text = Text::new(
    "如果该地址属于一个可以登录的账户，验证码已发送",
    "If the address belongs to an account that may sign in, a code is on its way",
);
pub const CONTACT_CHANGE_CODE_SENT: Text = Text::new(
    "验证码已发送到新的邮箱地址",
    "A code was sent to the new address",
);
pub const CONTACT_CHANGE_CODE_TEXTED: Text = Text::new(
    "验证码已通过短信发送到新的号码",
    "A code was sent to the new number by text message",
);
pub const CONTACT_CHANGED: Text = Text::new(
    "已更改；原来的地址收到了撤销链接",
    "Changed; the previous address was sent a link that undoes it",
);
pub const CONTACT_CHANGE_REVERTED: Text = Text::new(
    "更改已撤销，所有会话均已退出",
    "The change was undone and every session ended",
);
pub const ACCOUNT_DELETION_SCHEDULED: Text = Text::new(
    "账户将在宽限期结束后删除，在此之前登录即可取消",
    "The account will be deleted when the grace period ends; signing in before then cancels it",
);
pub const ACCOUNT_DELETED: Text = Text::new("账户已删除", "Account deleted");
pub const FACTOR_REQUIRED: Text = Text::new(
    "您的角色要求两步验证：请先添加另一种验证方式，再移除这一种",
    "Your role requires two-step verification: add another factor before removing this one",
);
pub const PASSKEY_LIMIT: Text = Text::new(
    "通行密钥数量已达上限",
    "This account has the most passkeys it may hold",
);
pub const TOTP_STARTED: Text = Text::new(
    "请用验证器应用扫描二维码，然后输入其显示的验证码完成启用",
    "Scan the QR code with your authenticator app, then confirm with the code it shows",
);
pub const TOTP_ENABLED: Text = Text::new("两步验证已启用", "Two-step verification is on");
pub const TOTP_REMOVED: Text = Text::new("两步验证已关闭", "Two-step verification is off");
pub const RECOVERY_CODES_ISSUED: Text = Text::new(
    "新的恢复码已生成，旧的恢复码已失效；请妥善保存，它们只显示这一次",
    "New recovery codes are ready and the old ones are void; keep them safe, they are shown only once",
);
pub const ACCOUNT_DISABLED: Text = Text::new("账户已被禁用", "Account disabled");
pub const TOKEN_MISSING: Text = Text::new(
    "未提供有效的认证令牌",
    "No valid authentication token was provided",
);
pub const TOKEN_INVALID: Text = Text::new("无效的认证令牌", "Invalid authentication token");
pub const TOKEN_EXPIRED: Text = Text::new("认证令牌已过期", "Authentication token has expired");
pub const TOKEN_NOT_YET_VALID: Text =
    Text::new("认证令牌尚未生效", "Authentication token is not yet valid");
pub const TOKEN_REVOKED: Text =
    Text::new("认证令牌已被撤销", "Authentication token has been revoked");
pub const REFRESH_REUSED: Text = Text::new(
    "刷新令牌已被重复使用，会话已撤销，请重新登录",
    "Refresh token reused; the session has been revoked, please log in again",
);
pub const REFRESHED: Text = Text::new("令牌刷新成功", "Token refreshed");
pub const LOGGED_OUT: Text = Text::new("退出登录成功", "Logged out");
pub const LOGGED_OUT_ALL: Text = Text::new("已退出所有设备", "Logged out on every device");
pub const SESSION_ENDED: Text = Text::new("会话已结束", "Session ended");
pub const SESSION_NOT_FOUND: Text = Text::new("会话不存在", "Session not found");
pub const CLIENT_NOT_FOUND: Text = Text::new("客户端不存在", "Client not found");
pub const PASSWORD_CHANGED: Text = Text::new("密码修改成功", "Password changed");
pub const WRONG_PASSWORD: Text = Text::new("原密码错误", "The current password is wrong");
pub const SAME_PASSWORD: Text = Text::new(
    "新密码不能与原密码相同",
    "The new password must differ from the current one",
);
pub const USER_NOT_FOUND: Text = Text::new("用户不存在", "User not found");
pub const BUSY: Text = Text::new("服务繁忙，请稍后重试", "Service busy, retry shortly");
pub const UNAVAILABLE: Text = Text::new(
    "服务暂时不可用，请稍后重试",
    "Service temporarily unavailable, retry later",
);
pub const INTERNAL: Text = Text::new("服务器内部错误", "Internal server error");
pub const CODE_EXPIRED: Text = Text::new(
    "验证码无效或已过期，请重新获取",
    "The code is invalid or has expired; request a new one",
);
pub const CODE_EXHAUSTED: Text = Text::new(
    "验证码错误次数过多，请重新获取",
    "Too many wrong codes; request a new one",
);
pub const TOO_MANY: Text = Text::new(
    "请求过于频繁，请稍后再试",
    "Too many requests, try again later",
);
pub const EMAIL_NOT_VERIFIED: Text = Text::new("邮箱尚未验证", "Email not verified");
pub const EMAIL_VERIFIED: Text = Text::new("邮箱验证成功", "Email verified");
pub const ACCOUNT_NOT_FOUND: Text = Text::new("账户不存在", "Account not found");
pub const CONTACT_MISMATCH: Text = Text::new(
    "联系方式与账户不匹配",
    "The contact does not match the account",
);
pub const RESET_CODE_SENT: Text = Text::new("验证码已发送", "Code sent");
pub const PASSWORD_RESET: Text = Text::new(
    "密码已重置，请重新登录",
    "Password reset; please log in again",
);
pub const VERIFICATION_SENT: Text = Text::new(
    "如果该邮箱已注册且尚未验证，验证邮件已发送",
    "If the address is registered and not yet verified, a verification mail has been sent",
);
pub const VERIFY_PAGE_TITLE: Text = Text::new("验证邮箱", "Verify your email");
pub const VERIFY_PAGE_BUTTON: Text = Text::new("确认验证", "Confirm");
pub const CODE_INVALID: Text = Text::new("验证码错误或已过期", "The code is wrong or has expired");
pub const VERIFY_PAGE_ACCOUNT: Text = Text::new(
    "此链接将为以下账户确认邮箱地址：",
    "This link confirms the address of this account:",
);
pub const VERIFY_PAGE_REGISTERED: Text = Text::new("注册时间", "Registered");
pub const VERIFY_PAGE_PASSWORD: Text = Text::new(
    "请输入您注册时设置的密码以确认：",
    "To confirm, enter the password you chose for it:",
);
pub const VERIFY_PAGE_PASSWORD_LABEL: Text = Text::new("密码", "Password");
pub const VERIFY_PAGE_NOT_ME: Text = Text::new(
    "如果这不是您注册的账户，请选择“不是我”：该账户将被删除，您的邮箱地址可以重新使用。",
    "If you did not register this account, choose \"This wasn't me\": it is removed and your address is free again.",
);
pub const VERIFY_PAGE_CLAIM: Text = Text::new(
    "如果这不是您注册的账户：请用“忘记密码”通过此邮箱重置密码，账户即归您所有，其他人的所有会话都会结束。",
    "If you did not register this account: reset its password through \"forgot password\" with this address; the account is then yours and every other session ends.",
);
pub const VERIFY_PAGE_NOT_ME_BUTTON: Text = Text::new("不是我", "This wasn't me");
pub const VERIFY_PAGE_WRONG_PASSWORD: Text = Text::new(
    "密码不正确。只有设置该密码的人才能确认此账户。",
    "Wrong password. Only the person who chose the password can confirm this account.",
);
pub const VERIFY_PAGE_REMOVED: Text = Text::new(
    "该账户已删除，您的邮箱地址可以重新注册。",
    "The account was removed; your address is free again.",
);
pub const VERIFY_PAGE_ALREADY: Text = Text::new("该邮箱已验证", "This address is verified already");
pub const USER_DELETED: Text = Text::new("用户已删除", "User deleted");
pub const USER_ENABLED: Text = Text::new("用户已启用", "User enabled");
pub const USER_DISABLED: Text = Text::new(
    "用户已禁用，其所有会话已撤销",
    "User disabled; all their sessions are revoked",
);
pub const ROLE_GRANTED: Text = Text::new("角色已授予", "Role granted");
pub const ROLE_REVOKED: Text = Text::new("角色已移除", "Role removed");
pub const FACTORS_RESET: Text = Text::new("两步验证已重置", "Second factors reset");
pub const SESSIONS_REVOKED: Text = Text::new("会话已全部撤销", "All sessions revoked");

// Seed 001 (`/Auth/*`), whose client reads `Code`.
pub const L_INCOMPLETE: Text = Text::new("参数不完整或格式错误", "Missing or malformed parameters");
pub const L_EXISTS: Text = Text::new("用户已存在", "User already exists");
pub const L_LOGIN_FAILED: Text = Text::new(
    "登录失败，邮箱或密码错误",
    "Login failed: wrong email or password",
);
pub const L_DISABLED: Text = Text::new(
    "认证失败：账户已被禁用",
    "Authentication failed: account disabled",
);
pub const L_NOT_VERIFIED: Text = Text::new(
    "认证失败：邮箱尚未验证",
    "Authentication failed: email not verified",
);
pub const L_AUTH_FAILED: Text = Text::new("认证失败", "Authentication failed");
pub const L_NO_USER: Text = Text::new("用户不存在", "User does not exist");
pub const L_CODE_WRONG: Text = Text::new("验证码错误", "Wrong verification code");
pub const L_MFA_TOKEN_GONE: Text = Text::new(
    "两步验证已失效，请重新登录",
    "The two-step verification has expired or was used up: log in again",
);
pub const L_CODE_EXPIRED: Text = Text::new(
    "验证码已过期或已失效，请重新获取",
    "The code has expired or was used; request a new one",
);
pub const L_DB: Text = Text::new("数据库连接错误", "Database connection error");
pub const L_NOT_OBJECT: Text = Text::new(
    "参数不完整：请求体必须是 JSON 对象",
    "Missing parameters: the body must be a JSON object",
);
pub const L_BODY_READ: Text = Text::new(
    "参数不完整：读取请求体失败",
    "Missing parameters: the body could not be read",
);
pub const L_ADMIN_LOGGED_IN: Text =
    Text::new("超级管理员登录成功", "Super administrator logged in");
pub const L_CODE_SENT: Text = Text::new("验证码已发送，请查收邮件", "Code sent, check your mail");
pub const L_SIGNED_UP: Text = Text::new("注册成功", "Signed up");
pub const L_TOKEN_OK: Text = Text::new("Token有效", "Token valid");
pub const L_TOKEN_BAD: Text = Text::new("Token无效或已过期", "Token invalid or expired");
pub const L_MFA_REQUIRED: Text = Text::new(
    "需要两步验证：请用 MfaToken 和验证码调用 /Auth/LoginMfa",
    "Two-step verification required: send MfaToken and a code to /Auth/LoginMfa",
);
pub const L_MFA_ENROLMENT_REQUIRED: Text = Text::new(
    "需要先设置两步验证：请用 MfaToken 调用 /api/auth/mfa/enrol/totp，再用 MfaToken 和验证器的第一个验证码调用 /Auth/LoginMfa",
    "Two-step verification must be set up first: send MfaToken to /api/auth/mfa/enrol/totp, then MfaToken and the app's first code to /Auth/LoginMfa",
);
pub const L_ADMIN_MFA_ENROLMENT_REQUIRED: Text = Text::new(
    "需要先设置两步验证：请用 MfaToken 调用 /api/auth/mfa/enrol/totp，再用 MfaToken 和验证器的第一个验证码调用 /Admin/LoginMfa",
    "Two-step verification must be set up first: send MfaToken to /api/auth/mfa/enrol/totp, then MfaToken and the app's first code to /Admin/LoginMfa",
);
pub const L_ADMIN_MFA_REQUIRED: Text = Text::new(
    "需要两步验证：请用 MfaToken 和验证码调用 /Admin/LoginMfa",
    "Two-step verification required: send MfaToken and a code to /Admin/LoginMfa",
);
pub const V1_MFA_REQUIRED: Text = Text::new(
    "需要两步验证：请用 mfa_token 和验证码调用 /api/v1/auth/login/mfa",
    "two-step verification required: send mfa_token and a code to /api/v1/auth/login/mfa",
);
pub const V1_MFA_ENROLMENT_REQUIRED: Text = Text::new(
    "需要先设置两步验证：请用 mfa_token 调用 /api/auth/mfa/enrol/totp，再用 mfa_token 和验证器的第一个验证码调用 /api/v1/auth/login/mfa",
    "two-step verification must be set up first: send mfa_token to /api/auth/mfa/enrol/totp, then mfa_token and the app's first code to /api/v1/auth/login/mfa",
);
pub const V1_MFA_CODE_WRONG: Text = Text::new("验证码错误", "invalid verification code");
pub const V1_MFA_TOKEN_INVALID: Text = Text::new(
    "两步验证已过期或无效，请重新登录",
    "two-step verification expired or invalid, log in again",
);
pub const L_ADMIN_MODE_ON: Text = Text::new("管理员登录成功", "Administrator logged in");
pub const L_ADMIN_AUTH_FAILED: Text =
    Text::new("管理员认证失败", "Administrator authentication failed");

// Seed 002 (`/api/v1/auth`), English by default.
pub const V1_INVALID: Text = Text::new("请求参数无效", "invalid request");
pub const V1_EXISTS: Text = Text::new("用户已存在", "user already exists");
pub const V1_BAD_CREDENTIALS: Text = Text::new(
    "凭据无效，邮箱或密码错误",
    "Invalid credentials, incorrect email or password",
);
pub const V1_DISABLED: Text = Text::new("账户已被禁用", "Account disabled");
pub const V1_NOT_VERIFIED: Text = Text::new("邮箱尚未验证", "Email not verified");
pub const V1_MISSING_TOKEN: Text = Text::new("缺少令牌", "Missing token");
pub const V1_TOKEN_EXPIRED: Text = Text::new("令牌已过期", "Token expired");
pub const V1_INVALID_TOKEN: Text = Text::new("令牌无效", "Invalid token");
pub const V1_USER_NOT_FOUND: Text = Text::new("用户不存在", "User not found");
pub const V1_LINK_BAD: Text = Text::new("令牌无效或已过期", "invalid or expired token");
pub const V1_TOO_MANY: Text = Text::new("请求过于频繁", "Too many requests");
pub const V1_BUSY: Text = Text::new("服务繁忙，请稍后重试", "Service busy, retry shortly");
pub const V1_UNAVAILABLE: Text = Text::new("服务不可用", "Service unavailable");
pub const V1_INTERNAL: Text = Text::new("服务器内部错误", "Internal server error");
pub const V1_FORBIDDEN: Text = Text::new("禁止访问", "Forbidden");
pub const V1_BAD_REQUEST: Text = Text::new("请求错误", "Bad request");
pub const V1_TOO_LARGE: Text = Text::new("请求体过大", "Request body too large");
pub const V1_NOT_OBJECT: Text = Text::new(
    "请求体必须是 JSON 对象",
    "Request body must be a JSON object",
);
pub const V1_BODY_READ: Text = Text::new("读取请求体失败", "Request body could not be read");
pub const V1_CREATED: Text = Text::new(
    "用户已创建，验证邮件已发送",
    "user created, verification email sent",
);
pub const V1_VERIFIED: Text = Text::new("邮箱验证成功", "email verified successfully");
pub const V1_ALREADY_VERIFIED: Text = Text::new("邮箱已验证", "already verified");
pub const V1_LINK_USER_NOT_FOUND: Text = Text::new("用户不存在", "user not found");
pub const V1_LOGGED_IN: Text = Text::new("登录成功", "login successful");

/// "Wrong code, N tries left" ("1 try left").
pub fn code_wrong(remaining: u32) -> String {
    if zh() {
        format!("验证码错误，还可尝试 {remaining} 次")
    } else {
        let tries = if remaining == 1 { "try" } else { "tries" };
        format!("Wrong code, {remaining} {tries} left")
    }
}

/// "This username/email/… is taken".
pub fn taken(field: &str) -> &'static str {
    let t = match field {
        "username" => Text::new("用户名已存在", "Username already exists"),
        "email" => Text::new("邮箱已被注册", "Email already registered"),
        "id" => Text::new("用户 ID 已存在", "User ID already exists"),
        _ => Text::new("手机号已被注册", "Phone number already registered"),
    };
    t.get()
}

fn label(field: &str) -> &str {
    let t = match field {
        "username" | "Name" => Text::new("用户名", "Username"),
        "email" | "Email" => Text::new("邮箱", "Email"),
        "password" | "Password" => Text::new("密码", "Password"),
        "phone" => Text::new("手机号", "Phone"),
        "role" => Text::new("角色", "Role"),
        "old_password" => Text::new("原密码", "Current password"),
        "new_password" => Text::new("新密码", "New password"),
        "refresh_token" => Text::new("刷新令牌", "Refresh token"),
        "VerifyCode" | "code" => Text::new("验证码", "Verification code"),
        "identifier" => Text::new("账号", "Account"),
        "channel" => Text::new("接收方式", "Channel"),
        "contact" => Text::new("联系方式", "Contact"),
        "token" => Text::new("验证令牌", "Token"),
        "page" => Text::new("页码", "Page"),
        "per_page" => Text::new("每页数量", "Page size"),
        other => return other,
    };
    t.get()
}

/// The message for one refused field, in the words seed 004 uses (zh-CN).
pub fn field_issue(field: &str, issue: &FieldIssue) -> String {
    let l = label(field);
    if zh() {
        match issue {
            FieldIssue::Required => format!("{l}不能为空"),
            FieldIssue::NotAString => format!("{l}必须是字符串"),
            FieldIssue::Length { min, max } => format!("{l}长度必须在{min}-{max}个字符之间"),
            FieldIssue::Range { min, max: u64::MAX } => format!("{l}不能小于{min}"),
            FieldIssue::Range { min, max } => format!("{l}必须在{min}到{max}之间"),
            FieldIssue::UsernameCharacters if field == "role" => "角色名称格式不正确".to_owned(),
            FieldIssue::UsernameCharacters => {
                "用户名只能包含字母、数字、下划线、连字符和点".to_owned()
            }
            FieldIssue::UsernameAllDigits => "用户名不能全为数字".to_owned(),
            FieldIssue::EmailFormat => "邮箱格式不正确".to_owned(),
            FieldIssue::PhoneFormat => "手机号格式不正确".to_owned(),
            FieldIssue::RoleNotAllowed { allowed } | FieldIssue::NotOneOf { allowed } => {
                format!("{l}必须是以下之一: {}", allowed.join(", "))
            }
            FieldIssue::PasswordComposition => format!("{l}必须包含大写字母、小写字母和数字"),
            FieldIssue::ControlCharacters => format!("{l}不能包含控制字符"),
            FieldIssue::PasswordGuessable { .. } => password_guessable(l, issue),
            FieldIssue::PasswordContainsIdentity => format!("{l}不能包含用户名或邮箱"),
        }
    } else {
        match issue {
            FieldIssue::Required => format!("{l} is required"),
            FieldIssue::NotAString => format!("{l} must be a string"),
            FieldIssue::Length { min, max } => {
                format!("{l} must be {min}-{max} characters long")
            }
            FieldIssue::Range { min, max: u64::MAX } => {
                format!("{l} must be a whole number of at least {min}")
            }
            FieldIssue::Range { min, max } => {
                format!("{l} must be a whole number from {min} to {max}")
            }
            FieldIssue::UsernameCharacters if field == "role" => "Invalid role name".to_owned(),
            FieldIssue::UsernameCharacters => {
                "Username may contain only letters, digits, underscores, hyphens and dots"
                    .to_owned()
            }
            FieldIssue::UsernameAllDigits => "Username cannot be all digits".to_owned(),
            FieldIssue::EmailFormat => "Invalid email address".to_owned(),
            FieldIssue::PhoneFormat => "Invalid phone number".to_owned(),
            FieldIssue::RoleNotAllowed { allowed } | FieldIssue::NotOneOf { allowed } => {
                format!("{l} must be one of: {}", allowed.join(", "))
            }
            FieldIssue::PasswordComposition => {
                format!("{l} must contain an upper-case letter, a lower-case letter and a digit")
            }
            FieldIssue::ControlCharacters => format!("{l} must not contain control characters"),
            FieldIssue::PasswordGuessable { .. } => password_guessable(l, issue),
            FieldIssue::PasswordContainsIdentity => {
                format!("{l} must not contain the username or email")
            }
        }
    }
}

/// The message of the first refused field of `v` (fields in name order, each
/// field's reasons in the order found), in the request's language; `None`
/// when nothing was refused. Front ends show one text: this is the one that
/// tells the person what to change (issue 13, item 9).
#[must_use]
pub fn first_reason(v: &tessera_domain::validation::ValidationErrors) -> Option<String> {
    v.fields()
        .iter()
        .find_map(|(field, issues)| issues.first().map(|issue| field_issue(field, issue)))
}

/// What zxcvbn found in a password.
fn password_warning(w: PasswordWarning) -> Text {
    match w {
        PasswordWarning::StraightRowsOfKeys => Text::new(
            "键盘上连成一行的按键很容易被猜到",
            "Straight rows of keys are easy to guess",
        ),
        PasswordWarning::ShortKeyboardPatterns => Text::new(
            "简短的键盘图案很容易被猜到",
            "Short keyboard patterns are easy to guess",
        ),
        PasswordWarning::RepeatedCharacters => Text::new(
            "“aaa”这样的重复很容易被猜到",
            "Repeats like \"aaa\" are easy to guess",
        ),
        PasswordWarning::RepeatedPatterns => Text::new(
            "“abcabcabc”这样的重复只比“abc”稍难猜",
            "Repeats like \"abcabcabc\" are only slightly harder to guess than \"abc\"",
        ),
        PasswordWarning::Top10Password => Text::new(
            "这是最常用的 10 个密码之一",
            "This is a top-10 common password",
        ),
        PasswordWarning::Top100Password => Text::new(
            "这是最常用的 100 个密码之一",
            "This is a top-100 common password",
        ),
        PasswordWarning::CommonPassword => Text::new(
            "这是一个非常常见（已泄露）的密码",
            "This is a very common (leaked) password",
        ),
        PasswordWarning::SimilarToCommonPassword => Text::new(
            "这与一个常用密码相似",
            "This is similar to a commonly used password",
        ),
        PasswordWarning::Sequences => Text::new(
            "abc 或 6543 这样的序列很容易被猜到",
            "Sequences like abc or 6543 are easy to guess",
        ),
        PasswordWarning::RecentYears => {
            Text::new("近年的年份很容易被猜到", "Recent years are easy to guess")
        }
        PasswordWarning::WordByItself => Text::new(
            "单独一个单词很容易被猜到",
            "A word by itself is easy to guess",
        ),
        PasswordWarning::Dates => {
            Text::new("日期往往很容易被猜到", "Dates are often easy to guess")
        }
        PasswordWarning::NameByItself => Text::new(
            "单独的姓名很容易被猜到",
            "Names and surnames by themselves are easy to guess",
        ),
        PasswordWarning::CommonNames => Text::new(
            "常见的姓名很容易被猜到",
            "Common names and surnames are easy to guess",
        ),
    }
}

/// How to choose a better password.
fn password_suggestion(s: PasswordSuggestion) -> Text {
    match s {
        PasswordSuggestion::UseAFewWords => Text::new(
            "使用几个单词，避免常见短语",
            "Use a few words, avoid common phrases",
        ),
        PasswordSuggestion::NoNeedForSymbols => Text::new(
            "不必使用符号、数字或大写字母",
            "No need for symbols, digits, or uppercase letters",
        ),
        PasswordSuggestion::AddAnotherWord => Text::new(
            "再加一两个单词，不常见的单词更好",
            "Add another word or two. Uncommon words are better",
        ),
        PasswordSuggestion::CapitalizationDoesNotHelp => {
            Text::new("大写字母帮助不大", "Capitalization doesn't help very much")
        }
        PasswordSuggestion::AllUppercaseDoesNotHelp => Text::new(
            "全部大写与全部小写几乎一样容易猜到",
            "All-uppercase is almost as easy to guess as all-lowercase",
        ),
        PasswordSuggestion::ReversedWordsDoNotHelp => Text::new(
            "倒写的单词并不难猜多少",
            "Reversed words aren't much harder to guess",
        ),
        PasswordSuggestion::SubstitutionsDoNotHelp => Text::new(
            "用“@”代替“a”这类可预测的替换帮助不大",
            "Predictable substitutions like '@' instead of 'a' don't help very much",
        ),
        PasswordSuggestion::LongerKeyboardPattern => Text::new(
            "使用更长、转折更多的键盘图案",
            "Use a longer keyboard pattern with more turns",
        ),
        PasswordSuggestion::AvoidRepeats => Text::new(
            "避免重复的单词和字符",
            "Avoid repeated words and characters",
        ),
        PasswordSuggestion::AvoidSequences => Text::new("避免序列", "Avoid sequences"),
        PasswordSuggestion::AvoidRecentYears => Text::new("避免近年的年份", "Avoid recent years"),
        PasswordSuggestion::AvoidAssociatedYears => Text::new(
            "避免与你有关的年份",
            "Avoid years that are associated with you",
        ),
        PasswordSuggestion::AvoidAssociatedDates => Text::new(
            "避免与你有关的日期和年份",
            "Avoid dates and years that are associated with you",
        ),
    }
}

/// "Password is too easy to guess (score 1 of 4, 3 required): <warning>. <suggestions>."
fn password_guessable(l: &str, issue: &FieldIssue) -> String {
    let FieldIssue::PasswordGuessable {
        score,
        min_score,
        warning,
        suggestions,
    } = issue
    else {
        return String::new();
    };
    let hints: Vec<&str> = suggestions
        .iter()
        .map(|s| password_suggestion(*s).get())
        .collect();
    if zh() {
        let mut text = format!("{l}太容易被猜到（强度 {score}/4，至少需要 {min_score}）");
        if let Some(w) = warning {
            text.push('：');
            text.push_str(password_warning(*w).get());
        }
        text.push_str("。建议：");
        text.push_str(&hints.join("；"));
        text
    } else {
        let mut text = format!(
            "{l} is too easy to guess (strength {score} of 4, at least {min_score} required)"
        );
        if let Some(w) = warning {
            text.push_str(": ");
            text.push_str(password_warning(*w).get());
        }
        text.push_str(". Suggestion: ");
        text.push_str(&hints.join("; "));
        text
    }
}

/// The machine-readable feedback of the first too-guessable password in `v`
/// (`password_feedback` in the `/api/auth` and `/api/v1` error bodies):
/// `{field, score, min_score, warning, suggestions, message}`, where
/// `warning` and `suggestions` are stable codes and `message` the text in the
/// request's language.
#[must_use]
pub fn password_feedback(
    v: &tessera_domain::validation::ValidationErrors,
) -> Option<super::dto::PasswordFeedback> {
    v.fields().iter().find_map(|(field, issues)| {
        issues.iter().find_map(|issue| match issue {
            FieldIssue::PasswordGuessable {
                score,
                min_score,
                warning,
                suggestions,
            } => Some(super::dto::PasswordFeedback {
                field: field.clone(),
                score: *score,
                min_score: *min_score,
                warning: warning.map(|w| PasswordWarning::code(w).to_owned()),
                suggestions: suggestions.iter().map(|s| s.code().to_owned()).collect(),
                message: field_issue(field, issue),
            }),
            _ => None,
        })
    })
}
