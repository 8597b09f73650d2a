//! `tessera keys rotate`.

use clap::Subcommand;
use tessera_crypto::keyring;

use crate::config::Config;
use crate::startup::{self, StartupError};

#[derive(Debug, Subcommand)]
pub(super) enum KeysCommand {
    /// Add a new signing key to JWT_KEYS_DIR. Each instance publishes it at
    /// its next re-read of the folder (within 10 s); it signs after
    /// JWT_KEY_ACTIVATION_DELAY; the previous key keeps verifying until the
    /// last token it signed has expired.
    Rotate,
}

/// Runs a `keys` command, printing the new key's id and when it signs.
pub(super) fn run(config: &Config, command: KeysCommand) -> Result<(), String> {
    match command {
        KeysCommand::Rotate => rotate_keys(config)
            .map(|(kid, at)| println!("new key {kid} signs from {}", at.to_rfc3339()))
            .map_err(|e| e.to_string()),
    }
}

/// `tessera keys rotate`: a new key that signs after
/// `JWT_KEY_ACTIVATION_DELAY`; returns its id and that instant.
///
/// # Errors
/// [`BuildError::Keys`](tessera_embed::BuildError::Keys) for HS256 or when the folder cannot be written.
pub fn rotate_keys(
    config: &Config,
) -> Result<(String, chrono::DateTime<chrono::Utc>), StartupError> {
    let alg = config.tokens.algorithm.ok_or_else(|| {
        tessera_embed::BuildError::Keys(
            "JWT_ALGORITHM is HS256: its key is JWT_SECRET_KEY (rotating it ends every session); set EdDSA or RS256 to use a key ring".into(),
        )
    })?;
    let delay = chrono::Duration::from_std(config.tokens.key_activation_delay)
        .map_err(|e| tessera_embed::BuildError::Keys(e.to_string()))?;
    let now = chrono::Utc::now();
    let kid = keyring::rotate(
        &config.tokens.keys_dir,
        alg,
        now,
        delay,
        startup::key_keep(config),
    )
    .map_err(|e| tessera_embed::BuildError::Keys(e.to_string()))?;
    Ok((kid, now + delay))
}
