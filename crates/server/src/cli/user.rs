//! `tessera user create|import|grant|revoke|disable|enable` (and the hidden
//! `tessera users import`, its earlier spelling).

use clap::Subcommand;
use tessera_domain::import::{ImportSummary, LineOutcome, import_line};
use tessera_sql::SqlUsers;

use crate::config::Config;
use crate::startup::{StartupError, build_hasher, build_service, open_database};

#[derive(Debug, Subcommand)]
pub(super) enum UserCommand {
    /// Create an account with any role, e.g. the first `super_admin` (no
    /// default admin exists). Without --password, the password is read from
    /// the first line of standard input.
    Create {
        /// Username.
        #[arg(long)]
        username: String,
        /// Email.
        #[arg(long)]
        email: String,
        /// Phone (optional).
        #[arg(long)]
        phone: Option<String>,
        /// Role, default `unauth`.
        #[arg(long, default_value = "unauth")]
        role: String,
        /// Password (prefer standard input: command lines are visible to other users).
        #[arg(long)]
        password: Option<String>,
    },
    /// Import users from a JSON-lines file (username, email, phone, role,
    /// password_hash, created_at), keeping their password hashes: sha256 or SM3
    /// hex, werkzeug pbkdf2/scrypt, bcrypt or argon2. Existing users are
    /// skipped; bad lines are reported and the import goes on. Exits 1 when a
    /// line failed.
    Import {
        /// The file.
        file: std::path::PathBuf,
    },
    /// Grant a role (one of the catalogue) to a user.
    Grant {
        /// The user's username, email or phone.
        #[arg(long)]
        user: String,
        /// The role.
        #[arg(long)]
        role: String,
    },
    /// Take a role away from a user (a user left without roles gets DEFAULT_ROLE).
    Revoke {
        /// The user's username, email or phone.
        #[arg(long)]
        user: String,
        /// The role.
        #[arg(long)]
        role: String,
    },
    /// Disable a user: every login is refused and every session ends at once.
    Disable {
        /// The user's username, email or phone.
        #[arg(long)]
        user: String,
    },
    /// Enable a disabled user.
    Enable {
        /// The user's username, email or phone.
        #[arg(long)]
        user: String,
    },
}

/// `tessera users …`: only `import`, as `tessera user import`.
#[derive(Debug, Subcommand)]
pub(super) enum UsersAlias {
    /// Same as `tessera user import`.
    Import {
        /// The file.
        file: std::path::PathBuf,
    },
}

impl From<UsersAlias> for UserCommand {
    fn from(alias: UsersAlias) -> Self {
        match alias {
            UsersAlias::Import { file } => Self::Import { file },
        }
    }
}

/// Runs a `user` command, printing what it did.
pub(super) async fn run(config: &Config, command: UserCommand) -> Result<(), String> {
    let action = match command {
        UserCommand::Create {
            username,
            email,
            phone,
            role,
            password,
        } => {
            let password = match password {
                Some(p) => p,
                None => read_password_line()
                    .map_err(|e| format!("reading the password from standard input: {e}"))?,
            };
            let u = create_user(
                config,
                &username,
                &email,
                phone.as_deref(),
                &role,
                &password,
            )
            .await?;
            println!("created user {} ({}, role {})", u.id, u.username, u.role);
            return Ok(());
        }
        UserCommand::Import { file } => {
            let summary = import_users(config, &file)
                .await
                .map_err(|e| e.to_string())?;
            return match summary.failed {
                0 => Ok(()),
                failed => Err(format!("{failed} line(s) failed")),
            };
        }
        UserCommand::Grant { user, role } => (user, UserAction::Grant(role)),
        UserCommand::Revoke { user, role } => (user, UserAction::Revoke(role)),
        UserCommand::Disable { user } => (user, UserAction::Disable),
        UserCommand::Enable { user } => (user, UserAction::Enable),
    };
    let u = user_action(config, &action.0, action.1).await?;
    let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
    println!(
        "user {} ({}): roles {}, {}",
        u.id,
        u.username,
        roles.join(","),
        if u.is_active { "active" } else { "disabled" }
    );
    Ok(())
}

/// The first line of standard input, without its line ending.
fn read_password_line() -> std::io::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// `tessera user import FILE` (also `tessera users import`): imports JSON-lines users with their password
/// hashes into the configured database, reporting each skipped or refused line
/// on stdout and going on. Returns the counts.
///
/// # Errors
/// [`StartupError`] when the database, the hasher or the file cannot be opened.
pub async fn import_users(
    config: &Config,
    file: &std::path::Path,
) -> Result<ImportSummary, StartupError> {
    let users = SqlUsers::new(open_database(config).await?);
    let hasher = build_hasher(config).await?;
    let text = tokio::fs::read_to_string(file)
        .await
        .map_err(|e| tessera_embed::BuildError::Store(format!("{}: {e}", file.display())))?;
    let mut summary = ImportSummary::default();
    let now = chrono::Utc::now();
    for (n, line) in text.lines().enumerate() {
        let Some(outcome) = import_line(
            &users,
            &hasher,
            line,
            now,
            &config.accounts.default_role,
            config.accounts.phone_region,
        )
        .await
        else {
            continue;
        };
        match &outcome {
            LineOutcome::Imported => {}
            LineOutcome::Skipped(why) => println!("line {}: skipped: {why}", n + 1),
            LineOutcome::Failed(why) => println!("line {}: error: {why}", n + 1),
        }
        summary.add(&outcome);
    }
    println!(
        "imported {}, skipped {}, failed {}",
        summary.imported, summary.skipped, summary.failed
    );
    Ok(summary)
}

/// `tessera user create`: makes an account with any role (the only way to a
/// `super_admin`: no default admin account exists). The password must satisfy
/// the policy; the email counts as verified, since an operator created it.
///
/// # Errors
/// `<field>: <the message the API gives>` for a refused field (in
/// `DEFAULT_LOCALE`'s language, `crate::http::messages`), the taken field,
/// or a startup error.
pub async fn create_user(
    config: &Config,
    username: &str,
    email: &str,
    phone: Option<&str>,
    role: &str,
    password: &str,
) -> Result<tessera_domain::model::User, String> {
    use tessera_domain::ports::{PasswordHasher as _, UserRepository as _};
    use tessera_domain::values::{Email, Password, PasswordAttempt, Phone, RoleName, Username};
    // The option refused, then the API's words for why, in DEFAULT_LOCALE's language.
    let field = |name: &str, e: tessera_domain::validation::FieldIssue| {
        let why = crate::http::messages::in_locale(config.messaging.mail.default_locale, || {
            crate::http::messages::field_issue(name, &e)
        });
        format!("{name}: {why}")
    };
    let username = Username::parse(username, &config.accounts.username_policy)
        .map_err(|e| field("username", e))?;
    let email = Email::parse(email).map_err(|e| field("email", e))?;
    let phone = phone
        .map(|p| Phone::parse(p, config.accounts.phone_region))
        .transpose()
        .map_err(|e| field("phone", e))?;
    let role = RoleName::parse(role).map_err(|e| field("role", e))?;
    let password =
        Password::parse(password, &config.passwords.policy).map_err(|e| field("password", e))?;
    password
        .screen(&config.passwords.policy, username.as_str(), email.as_str())
        .map_err(|e| field("password", e))?;
    let users = SqlUsers::new(open_database(config).await.map_err(|e| e.to_string())?);
    let hasher = build_hasher(config).await.map_err(|e| e.to_string())?;
    let hash = hasher
        .hash(&PasswordAttempt::from(password))
        .await
        .map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let new = tessera_domain::model::NewUser {
        public_id: uuid::Uuid::new_v4(),
        username,
        email,
        phone,
        password_hash: hash,
        role,
        email_verified: true,
        created_at: now,
    };
    let created = [tessera_domain::model::PendingEvent::new(
        tessera_domain::model::EventType::UserCreated,
        now,
    )];
    let user = users
        .create(new, None, &created)
        .await
        .map_err(|e| e.to_string())?;
    users
        .mark_email_verified(user.id, now, &[])
        .await
        .map_err(|e| e.to_string())?;
    Ok(tessera_domain::model::User {
        email_verified: true,
        ..user
    })
}

/// What `tessera user grant|revoke|disable|enable` does.
#[derive(Debug, Clone)]
pub enum UserAction {
    /// Grant a role of the catalogue.
    Grant(String),
    /// Take a role away.
    Revoke(String),
    /// Disable the account and end every session.
    Disable,
    /// Enable the account.
    Enable,
}

/// Applies `action` to the user a login identifier names, as the operator
/// (audited with the `tessera-cli` user agent), through the same use cases as
/// the admin API — so caches are invalidated and sessions revoked.
///
/// # Errors
/// A readable reason.
pub async fn user_action(
    config: &Config,
    login: &str,
    action: UserAction,
) -> Result<tessera_domain::model::User, String> {
    let (service, _) = build_service(config).await.map_err(|e| e.to_string())?;
    let parsed = tessera_domain::values::Login::parse(login, config.accounts.phone_region)
        .map_err(|e| format!("--user {login:?}: {e}"))?;
    let user = service
        .find_user_by_login(&parsed)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user {login:?}"))?;
    let actor = tessera_domain::usecase::Actor::operator();
    let done = match action {
        UserAction::Grant(role) => service.grant_role(&actor, user.id, &role).await,
        UserAction::Revoke(role) => service.revoke_role(&actor, user.id, &role).await,
        UserAction::Disable => service.set_user_active(&actor, user.id, false).await,
        UserAction::Enable => service.set_user_active(&actor, user.id, true).await,
    };
    done.map_err(|e| match e {
        tessera_domain::AuthError::Validation(v) => format!("{v:?}"),
        other => other.to_string(),
    })
}
