//! Human-readable texts (zh-CN, the seeds' language). Machine-readable codes
//! live beside them in each dialect and never change with language.

use tessera_domain::validation::FieldIssue;

pub const NOT_FOUND: &str = "接口不存在";
pub const METHOD_NOT_ALLOWED: &str = "请求方法不允许";
pub const FORBIDDEN: &str = "没有执行此操作的权限";
pub const SELF_LOCKOUT: &str = "不能禁用或删除自己的账户，也不能移除自己的管理员角色";
pub const VALIDATION: &str = "验证失败";
pub const VALIDATION_DETAIL: &str = "请求参数验证失败";
pub const INVALID_JSON: &str = "请求体必须是有效的 JSON 对象";
pub const BODY_TOO_LARGE: &str = "请求体过大";
pub const BODY_READ: &str = "读取请求体失败";
pub const REGISTERED: &str = "用户注册成功";
pub const LOGGED_IN: &str = "登录成功";
pub const INVALID_CREDENTIALS: &str = "用户名或密码错误";
pub const ACCOUNT_DISABLED: &str = "账户已被禁用";
pub const TOKEN_MISSING: &str = "未提供有效的认证令牌";
pub const TOKEN_INVALID: &str = "无效的认证令牌";
pub const TOKEN_EXPIRED: &str = "认证令牌已过期";
pub const TOKEN_NOT_YET_VALID: &str = "认证令牌尚未生效";
pub const TOKEN_REVOKED: &str = "认证令牌已被撤销";
pub const REFRESH_REUSED: &str = "刷新令牌已被重复使用，会话已撤销，请重新登录";
pub const REFRESHED: &str = "令牌刷新成功";
pub const LOGGED_OUT: &str = "退出登录成功";
pub const LOGGED_OUT_ALL: &str = "已退出所有设备";
pub const SESSION_ENDED: &str = "会话已结束";
pub const SESSION_NOT_FOUND: &str = "会话不存在";
pub const PASSWORD_CHANGED: &str = "密码修改成功";
pub const WRONG_PASSWORD: &str = "原密码错误";
pub const SAME_PASSWORD: &str = "新密码不能与原密码相同";
pub const USER_NOT_FOUND: &str = "用户不存在";
pub const BUSY: &str = "服务繁忙，请稍后重试";
pub const UNAVAILABLE: &str = "服务暂时不可用，请稍后重试";
pub const INTERNAL: &str = "服务器内部错误";
pub const CODE_EXPIRED: &str = "验证码无效或已过期，请重新获取";
pub const CODE_EXHAUSTED: &str = "验证码错误次数过多，请重新获取";
pub const TOO_MANY: &str = "请求过于频繁，请稍后再试";
pub const EMAIL_NOT_VERIFIED: &str = "邮箱尚未验证";
pub const EMAIL_VERIFIED: &str = "邮箱验证成功";
pub const ACCOUNT_NOT_FOUND: &str = "账户不存在";
pub const CONTACT_MISMATCH: &str = "联系方式与账户不匹配";
pub const RESET_CODE_SENT: &str = "验证码已发送";
pub const PASSWORD_RESET: &str = "密码已重置，请重新登录";
pub const VERIFICATION_SENT: &str = "如果该邮箱已注册且尚未验证，验证邮件已发送";

pub fn code_wrong(remaining: u32) -> String {
    format!("验证码错误，还可尝试 {remaining} 次")
}

pub fn taken(field: &str) -> &'static str {
    match field {
        "username" => "用户名已存在",
        "email" => "邮箱已被注册",
        "id" => "用户 ID 已存在",
        _ => "手机号已被注册",
    }
}

fn label(field: &str) -> &str {
    match field {
        "username" => "用户名",
        "email" => "邮箱",
        "password" => "密码",
        "phone" => "手机号",
        "role" => "角色",
        "old_password" => "原密码",
        "new_password" => "新密码",
        "refresh_token" => "刷新令牌",
        "Email" => "邮箱",
        "Password" => "密码",
        "Name" => "用户名",
        "VerifyCode" => "验证码",
        other => other,
    }
}

/// The message for one refused field, in the words seed 004 uses.
pub fn field_issue(field: &str, issue: &FieldIssue) -> String {
    let l = label(field);
    match issue {
        FieldIssue::Required => format!("{l}不能为空"),
        FieldIssue::NotAString => format!("{l}必须是字符串"),
        FieldIssue::Length { min, max } => format!("{l}长度必须在{min}-{max}个字符之间"),
        FieldIssue::UsernameCharacters if field == "role" => "角色名称格式不正确".to_owned(),
        FieldIssue::UsernameCharacters => "用户名只能包含字母、数字、下划线、连字符和点".to_owned(),
        FieldIssue::UsernameAllDigits => "用户名不能全为数字".to_owned(),
        FieldIssue::EmailFormat => "邮箱格式不正确".to_owned(),
        FieldIssue::PhoneFormat => "手机号格式不正确".to_owned(),
        FieldIssue::RoleNotAllowed { allowed } => {
            format!("角色必须是以下之一: {}", allowed.join(", "))
        }
        FieldIssue::PasswordComposition => format!("{l}必须包含大写字母、小写字母和数字"),
        FieldIssue::ControlCharacters => format!("{l}不能包含控制字符"),
        FieldIssue::PasswordTooCommon => format!("{l}过于常见，请换一个"),
        FieldIssue::PasswordContainsIdentity => format!("{l}不能包含用户名或邮箱"),
    }
}
