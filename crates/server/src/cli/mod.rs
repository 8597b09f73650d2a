//! The `tessera` command line: `serve` (the default), `migrate`, `calibrate`,
//! `config check`, `keys rotate`, `user create|import|grant|revoke|disable|enable`,
//! `client create|list|show|rotate-secret|disable|enable|delete`, `webhook
//! create|list|disable|enable|delete|deliveries`, `openapi`. `tessera users import` is kept as a hidden alias of `tessera
//! user import`. `main.rs` only calls [`run`].

mod calibrate;
mod client;
mod config;
mod keys;
mod user;
mod webhook;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use config::check_config;
pub use keys::rotate_keys;
pub use user::{UserAction, create_user, import_users, user_action};

use crate::config::Config;
use crate::startup::Application;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Self-hosted authentication service"
)]
pub struct Cli {
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
        command: config::ConfigCommand,
    },
    /// Manage the JWT signing keys (EdDSA or RS256).
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Manage users: create, import, grant, revoke, disable, enable.
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Manage the OpenID Provider's clients: create, list, show,
    /// rotate-secret, disable, enable, delete.
    Client {
        #[command(subcommand)]
        command: client::ClientCommand,
    },
    /// Manage webhook endpoints: create, list, disable, enable, delete,
    /// deliveries.
    Webhook {
        #[command(subcommand)]
        command: webhook::WebhookCommand,
    },
    /// `tessera users import FILE`, the earlier spelling of `tessera user import`.
    #[command(hide = true)]
    Users {
        #[command(subcommand)]
        command: user::UsersAlias,
    },
    /// Print the OpenAPI 3.1 document (what `/openapi.json` serves) and exit.
    Openapi,
}

/// Runs one command line: reads the configuration (exit 2 when invalid),
/// installs logging and trace export, and runs the command (exit 1 when it fails).
pub async fn run(cli: Cli) -> ExitCode {
    if matches!(cli.command, Some(Command::Openapi)) {
        return match crate::openapi::document().to_pretty_json() {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        };
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tessera: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let telemetry = crate::telemetry::init(&config);
    let result = match cli.command.unwrap_or(Command::Serve { no_migrate: false }) {
        Command::Serve { no_migrate } => serve(config, no_migrate).await,
        Command::Migrate => migrate(&config).await,
        Command::Calibrate { target_ms } => calibrate::calibrate(&config, target_ms),
        Command::Config { command } => {
            let code = config::run(&config, command);
            telemetry.shutdown();
            return code;
        }
        Command::Keys { command } => keys::run(&config, command),
        Command::User { command } => user::run(&config, command).await,
        Command::Users { command } => user::run(&config, command.into()).await,
        Command::Client { command } => client::run(&config, command).await,
        Command::Webhook { command } => webhook::run(&config, command).await,
        Command::Openapi => Ok(()),
    };
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "tessera stopped");
            fail(&e)
        }
    };
    telemetry.shutdown();
    code
}

fn fail(message: &str) -> ExitCode {
    eprintln!("tessera: {message}");
    ExitCode::FAILURE
}

async fn serve(mut config: Config, no_migrate: bool) -> Result<(), String> {
    if no_migrate {
        config.database.auto_migrate = false;
    }
    let app = Application::build(config)
        .await
        .map_err(|e| e.to_string())?;
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

/// `tessera migrate`: applies migrations and reports the identifiers it canonicalised.
async fn migrate(config: &Config) -> Result<(), String> {
    let report = crate::startup::migrate(config)
        .await
        .map_err(|e| e.to_string())?;
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
    Ok(())
}
