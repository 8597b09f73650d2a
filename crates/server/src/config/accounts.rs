//! Accounts: `USERNAME_MIN_LENGTH`, `REGISTRATION_ROLES`, `DEFAULT_ROLE`,
//! `ADMIN_LOGIN_ROLES`, `MFA_REQUIRED_ROLES`, `PHONE_DEFAULT_REGION`,
//! `ACCOUNT_DELETION_GRACE`, `PASSWORDLESS_LOGIN`.

use tessera_domain::values::{PhoneRegion, RoleName, Username, UsernamePolicy};

use super::ConfigError;

/// The roles a user may pick at registration unless `REGISTRATION_ROLES`
/// says otherwise: seed 003's. They are this deployment's data, not the
/// domain's (whose built-in catalogue holds only `super_admin`, `admin` and
/// `user`): the migrations create them (`2026-11-22-000004_roles`).
const DEFAULT_REGISTRABLE_ROLES: &[&str] =
    &["pharmacy", "supplier", "logistics", "regulator", "unauth"];

/// The role registration gives unless `DEFAULT_ROLE` says otherwise: seed 003's.
const DEFAULT_ROLE: &str = "unauth";
use super::source::Reader;

/// What a new account may be and how its identifiers read.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    /// `USERNAME_MIN_LENGTH`: fewest characters of a new username (Unicode
    /// scalar values after NFC, so `张三` is 2), 1 to 50; default 3 (seed
    /// 004's 3–50). Existing names log in whatever it is (issue 13, item 10).
    pub username_policy: UsernamePolicy,
    /// `REGISTRATION_ROLES`, comma-separated; default pharmacy,supplier,logistics,regulator,unauth.
    /// Never `super_admin`.
    pub registrable_roles: Vec<RoleName>,
    /// `DEFAULT_ROLE`, default `unauth`.
    pub default_role: RoleName,
    /// `ADMIN_LOGIN_ROLES`, comma-separated, default `super_admin`: the roles
    /// that may log in at seed 001's `/Admin/Login` (issue 13, item 11). At
    /// least one role, none of them one a user may choose at registration
    /// (`REGISTRATION_ROLES`, `DEFAULT_ROLE`).
    pub admin_login_roles: Vec<RoleName>,
    /// `MFA_REQUIRED_ROLES`, comma-separated, default none: holders of these
    /// roles must enrol a second factor at their next sign-in and get no
    /// session until they do (issue 17). Every role named must be a
    /// well-formed role name; one the catalogue lacks simply matches nobody.
    pub mfa_required_roles: Vec<RoleName>,
    /// `PHONE_DEFAULT_REGION`, default `CN`: the region (ISO 3166-1 alpha-2)
    /// whose numbering plan reads phone numbers written without a country code.
    pub phone_region: PhoneRegion,
    /// `ACCOUNT_DELETION_GRACE` seconds, default 604 800 (7 days): how long
    /// after its holder asks for it an account is deleted; signing in before
    /// then cancels it; 0 deletes at once (issue 20).
    pub deletion_grace: std::time::Duration,
    /// `PASSWORDLESS_LOGIN`, default false: sign-in by a one-time code
    /// mailed to the account's address or texted to its number (issue 20).
    pub passwordless_login: bool,
}

impl AccountSettings {
    /// Reads and checks the section.
    pub(crate) fn read(r: &Reader<'_>) -> Result<Self, ConfigError> {
        let roles = |name: &'static str, list: Vec<String>| {
            list.iter()
                .map(|s| r.role(name, s))
                .collect::<Result<Vec<_>, _>>()
        };
        let registrable_roles = roles(
            "REGISTRATION_ROLES",
            r.list("REGISTRATION_ROLES").unwrap_or_else(|| {
                DEFAULT_REGISTRABLE_ROLES
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            }),
        )?;
        r.default_shown("REGISTRATION_ROLES", &DEFAULT_REGISTRABLE_ROLES.join(", "));
        if registrable_roles.iter().any(RoleName::is_super_admin) {
            return Err(ConfigError::Invalid {
                name: "REGISTRATION_ROLES",
                reason: "super_admin can never be chosen at registration".into(),
            });
        }
        let default_role = r.role("DEFAULT_ROLE", &r.string_or("DEFAULT_ROLE", DEFAULT_ROLE))?;
        let admin_login_roles = roles(
            "ADMIN_LOGIN_ROLES",
            r.list("ADMIN_LOGIN_ROLES")
                .unwrap_or_else(|| vec![RoleName::SUPER_ADMIN.to_owned()]),
        )?;
        r.default_shown("ADMIN_LOGIN_ROLES", RoleName::SUPER_ADMIN);
        if admin_login_roles.is_empty() {
            return Err(ConfigError::Invalid {
                name: "ADMIN_LOGIN_ROLES",
                reason: "name at least one role".into(),
            });
        }
        // A role anyone can give themselves at registration must not open
        // the administrator login.
        if let Some(open) = admin_login_roles
            .iter()
            .find(|role| **role == default_role || registrable_roles.contains(role))
        {
            return Err(ConfigError::Invalid {
                name: "ADMIN_LOGIN_ROLES",
                reason: format!(
                    "{} can be chosen at registration (REGISTRATION_ROLES or DEFAULT_ROLE)",
                    open.as_str()
                ),
            });
        }
        let mfa_required_roles = roles(
            "MFA_REQUIRED_ROLES",
            r.list("MFA_REQUIRED_ROLES").unwrap_or_default(),
        )?;
        r.default_shown("MFA_REQUIRED_ROLES", "");
        let username_policy = UsernamePolicy {
            min_chars: r.parse("USERNAME_MIN_LENGTH", UsernamePolicy::DEFAULT_MIN_CHARS)?,
        };
        if !(1..=Username::MAX).contains(&username_policy.min_chars) {
            return Err(ConfigError::Invalid {
                name: "USERNAME_MIN_LENGTH",
                reason: format!("must be a number of characters from 1 to {}", Username::MAX),
            });
        }
        Ok(Self {
            username_policy,
            registrable_roles,
            default_role,
            admin_login_roles,
            mfa_required_roles,
            phone_region: phone_region(r, "PHONE_DEFAULT_REGION")?,
            deletion_grace: r.seconds(
                "ACCOUNT_DELETION_GRACE",
                tessera_domain::settings::DEFAULT_ACCOUNT_DELETION_GRACE_SECS.unsigned_abs(),
            )?,
            passwordless_login: r.bool("PASSWORDLESS_LOGIN", false)?,
        })
    }
}

fn phone_region(r: &Reader<'_>, name: &'static str) -> Result<PhoneRegion, ConfigError> {
    let value = r.string(name);
    r.default_shown(name, PhoneRegion::default().as_str());
    value.map_or(Ok(PhoneRegion::default()), |v| {
        PhoneRegion::parse(&v).map_err(|_| ConfigError::Invalid {
            name,
            reason: format!("{v:?}: expected a region code such as CN or US"),
        })
    })
}
