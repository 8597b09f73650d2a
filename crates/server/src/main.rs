//! The `tessera` binary.

use clap::{Parser, Subcommand};
use tessera_server::config::Config;
use tessera_server::startup::{self, Application};
use tessera_server::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Self-hosted authentication service"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTP (the default): applies pending migrations, then listens on HOST:PORT.
    Serve {
        /// Do not apply migrations first (same as AUTO_MIGRATE=false).
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Time argon2id on this machine and suggest ARGON2_* settings.
    Calibrate {
        /// The time one hash should take, in milliseconds.
        #[arg(long, default_value_t = 250)]
        target_ms: u64,
    },
    /// Inspect the configuration (environment, `.env`, `tessera.toml`).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage the JWT signing keys (EdDSA or RS256).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage one user.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI 3.1 document (what `/openapi.json` serves) and exit.
    Openapi,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
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

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (secrets redacted) and check it;
    /// exits 2 when it is invalid.
    Check,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Add a new signing key to JWT_KEYS_DIR. It is published at once and
    /// signs after JWT_KEY_ACTIVATION_DELAY; the previous key keeps verifying
    /// until the last token it signed has expired.
    Rotate,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Import users from a JSON-lines file (username, email, phone, role,
    /// password_hash, created_at), keeping their password hashes: sha256 or SM3
    /// hex, werkzeug pbkdf2/scrypt, bcrypt or argon2. Existing users are
    /// skipped; bad lines are reported and the import goes on. Exits 1 when a
    /// line failed.
    Import {
        /// The file.
        file: std::path::PathBuf,
    },
}

/// Prints the time of one hash per setting and the logins per second it
/// allows (CPUs ÷ hash time, the hash-bound limit).
fn calibrate(config: &Config, target_ms: u64) -> Result<(), String> {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let rows = tessera_crypto::calibrate(
        config.argon2,
        std::time::Duration::from_millis(target_ms),
        8,
    )
    .map_err(|e| e.to_string())?;
    println!("argon2id on {cpus} CPU(s), target {target_ms} ms per hash:");
    for r in &rows {
        let ms = r.hash_time.as_secs_f64() * 1000.0;
        println!(
            "  m={} KiB t={} p={}: {ms:.1} ms per hash, at most {:.0} logins/s",
            r.params.memory_kib,
            r.params.iterations,
            r.params.parallelism,
            cpus as f64 / r.hash_time.as_secs_f64()
        );
    }
    let parallel =
        tessera_crypto::parallel_throughput(config.argon2, cpus, 8).map_err(|e| e.to_string())?;
    println!(
        "with all {cpus} CPUs hashing (m={} KiB t={} p={}): {parallel:.0} hashes/s",
        config.argon2.memory_kib, config.argon2.iterations, config.argon2.parallelism
    );
    if let Some(last) = rows.last() {
        println!(
            "suggested: ARGON2_MEMORY_KIB={} ARGON2_ITERATIONS={} ARGON2_PARALLELISM={}",
            last.params.memory_kib, last.params.iterations, last.params.parallelism
        );
    }
    Ok(())
}

async fn user_action(
    config: &Config,
    user: &str,
    action: startup::UserAction,
) -> Result<(), String> {
    startup::user_action(config, user, action).await.map(|u| {
        let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
        println!(
            "user {} ({}): roles {}, {}",
            u.id,
            u.username,
            roles.join(","),
            if u.is_active { "active" } else { "disabled" }
        );
    })
}

async fn serve(mut config: Config, no_migrate: bool) -> Result<(), String> {
    if no_migrate {
        config.auto_migrate = false;
    }
    let app = Application::build(config)
        .await
        .map_err(|e| e.to_string())?;
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Some(Command::Openapi)) {
        return match tessera_server::openapi::document().to_pretty_json() {
            Ok(text) => {
                println!("{text}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tessera: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tessera: configuration: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(config.environment);
    let result = match cli.command.unwrap_or(Command::Serve { no_migrate: false }) {
        Command::Serve { no_migrate } => serve(config, no_migrate).await,
        Command::Users {
            command: UsersCommand::Import { file },
        } => match startup::import_users(&config, &file).await {
            Ok(summary) if summary.failed == 0 => Ok(()),
            Ok(summary) => Err(format!("{} line(s) failed", summary.failed)),
            Err(e) => Err(e.to_string()),
        },
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    email,
                    phone,
                    role,
                    password,
                },
        } => {
            let password = match password {
                Some(p) => Ok(p),
                None => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .map(|_| line.trim_end_matches(['\r', '\n']).to_owned())
                }
            };
            match password {
                Err(e) => Err(format!("reading the password from standard input: {e}")),
                Ok(p) => {
                    startup::create_user(&config, &username, &email, phone.as_deref(), &role, &p)
                        .await
                        .map(|u| {
                            println!("created user {} ({}, role {})", u.id, u.username, u.role)
                        })
                }
            }
        }
        Command::Calibrate { target_ms } => calibrate(&config, target_ms),
        Command::Openapi => Ok(()),
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            println!("{config:#?}");
            match startup::check_config(&config) {
                Ok(()) => {
                    println!("configuration OK");
                    Ok(())
                }
                Err(e) => {
                    eprintln!("tessera: configuration: {e}");
                    return std::process::ExitCode::from(2);
                }
            }
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => startup::rotate_keys(&config)
            .map(|(kid, at)| println!("new key {kid} signs from {}", at.to_rfc3339()))
            .map_err(|e| e.to_string()),
        Command::User {
            command: UserCommand::Grant { user, role },
        } => user_action(&config, &user, startup::UserAction::Grant(role)).await,
        Command::User {
            command: UserCommand::Revoke { user, role },
        } => user_action(&config, &user, startup::UserAction::Revoke(role)).await,
        Command::User {
            command: UserCommand::Disable { user },
        } => user_action(&config, &user, startup::UserAction::Disable).await,
        Command::User {
            command: UserCommand::Enable { user },
        } => user_action(&config, &user, startup::UserAction::Enable).await,
        Command::Migrate => startup::migrate(&config)
            .await
            .map(|report| {
                println!("applied {} migration(s)", report.applied);
                let ids = &report.identifiers;
                if ids.rows > 0 {
                    println!(
                        "canonicalised the identifiers of {} user(s): {} value(s) rewritten, {} left as they were",
                        ids.rows,
                        ids.changed,
                        ids.issues.len()
                    );
                }
                for issue in &ids.issues {
                    println!("  left: {issue}");
                }
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "tessera stopped");
            eprintln!("tessera: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
