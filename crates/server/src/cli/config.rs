//! `tessera config check`.

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::{Config, Environment};
use crate::startup::{self, StartupError};

#[derive(Debug, Subcommand)]
pub(super) enum ConfigCommand {
    /// Print the effective configuration, one `NAME = value` line per
    /// setting (section by section, secrets redacted), and check it; exits 2
    /// when it is invalid.
    Check,
}

/// Prints the configuration and checks it: exit 0, or 2 with the reason.
pub(super) fn run(config: &Config, command: ConfigCommand) -> ExitCode {
    match command {
        ConfigCommand::Check => {
            print!("{}", config.settings);
            match check_config(config) {
                Ok(()) => {
                    println!("configuration OK");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("tessera: configuration: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// `tessera config check`: what start-up would refuse, without starting
/// (and without writing anything, not even a development key).
///
/// # Errors
/// [`StartupError`] naming the first problem.
pub fn check_config(config: &Config) -> Result<(), StartupError> {
    crate::wiring::auth_settings(config)?;
    // In production resolving the key only checks it (development would
    // generate one, which a check must not do).
    if config.environment == Environment::Production {
        config.resolve_jwt_secret()?;
        if let Some(alg) = config.tokens.algorithm {
            startup::read_active_ring(config, alg)?
                .ok_or_else(|| startup::no_active_key(config, alg))?;
        }
    }
    startup::mailer(config)?;
    Ok(())
}
