//! `tessera client create|list|show|rotate-secret|disable|enable|delete`:
//! the OpenID Provider's clients (issue 18), through the same use cases as
//! the admin API (audited with the `tessera-cli` user agent).

use clap::{Subcommand, ValueEnum};
use tessera_domain::model::{ClientDraft, ClientKind, GrantType, OAuthClient, Scope};
use tessera_domain::usecase::Actor;

use crate::config::Config;
use crate::startup::build_service;

/// Public or confidential (RFC 6749 §2.1).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum KindArg {
    /// A browser or native app: no secret, PKCE required.
    Public,
    /// A server: gets a secret, shown once.
    Confidential,
}

#[derive(Debug, Subcommand)]
pub(super) enum ClientCommand {
    /// Register a client; prints its id (and a confidential client's
    /// secret, shown once).
    Create {
        /// The name people see on the consent page.
        #[arg(long)]
        name: String,
        /// public or confidential.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// A redirect URI (repeat for more; compared as exact strings).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// A post-logout redirect URI (repeat for more).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Allowed scopes, space- or comma-separated (default: every scope).
        #[arg(long)]
        scopes: Option<String>,
        /// Allowed grant types, comma-separated (default:
        /// authorization_code,refresh_token).
        #[arg(long)]
        grant_types: Option<String>,
        /// A first-party application: no consent page.
        #[arg(long)]
        first_party: bool,
        /// A JSON file holding the client's public keys (a JWK Set), for
        /// `private_key_jwt` authentication (confidential clients).
        #[arg(long)]
        jwks_file: Option<std::path::PathBuf>,
    },
    /// List the clients.
    List,
    /// Show one client.
    Show {
        /// The client id.
        id: String,
    },
    /// Replace a confidential client's secret (the old one stops working);
    /// prints the new one, shown once.
    RotateSecret {
        /// The client id.
        id: String,
    },
    /// Disable a client: it is refused everywhere and its sessions end.
    Disable {
        /// The client id.
        id: String,
    },
    /// Enable a disabled client.
    Enable {
        /// The client id.
        id: String,
    },
    /// Delete a client, its consents and grants; its sessions end.
    Delete {
        /// The client id.
        id: String,
    },
}

fn describe(c: &OAuthClient) -> String {
    format!(
        "{}\t{}\t{}{}{}\tredirect_uris={}\tscopes={}\tgrant_types={}",
        c.id,
        c.name,
        c.kind.as_str(),
        if c.first_party { ",first-party" } else { "" },
        if c.disabled { ",disabled" } else { "" },
        c.redirect_uris.join(","),
        Scope::join(&c.scopes),
        c.grant_types
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(","),
    )
}

fn list<T>(raw: Option<&str>, what: &str, parse: fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    raw.unwrap_or("")
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).ok_or_else(|| format!("unknown {what} {s:?}")))
        .collect()
}

/// Runs a `client` command, printing what it did.
pub(super) async fn run(config: &Config, command: ClientCommand) -> Result<(), String> {
    let (service, _) = build_service(config).await.map_err(|e| e.to_string())?;
    let actor = Actor::operator();
    let text = |e: tessera_domain::AuthError| e.to_string();
    match command {
        ClientCommand::Create {
            name,
            kind,
            redirect_uris,
            post_logout_redirect_uris,
            scopes,
            grant_types,
            first_party,
            jwks_file,
        } => {
            let jwks = jwks_file
                .map(|path| {
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("--jwks-file {}: {e}", path.display()))
                })
                .transpose()?;
            let draft = ClientDraft {
                name,
                kind: match kind {
                    KindArg::Public => ClientKind::Public,
                    KindArg::Confidential => ClientKind::Confidential,
                },
                redirect_uris,
                post_logout_redirect_uris,
                scopes: list(scopes.as_deref(), "scope", Scope::parse)?,
                grant_types: list(grant_types.as_deref(), "grant type", GrantType::parse)?,
                first_party,
                jwks,
            };
            let registered = service
                .register_client(&actor, draft)
                .await
                .map_err(|e| match e {
                    Ok(refused) => refused.to_string(),
                    Err(e) => e.to_string(),
                })?;
            println!("client_id={}", registered.client.id);
            if let Some(secret) = registered.secret {
                println!("client_secret={}", secret.expose());
            }
        }
        ClientCommand::List => {
            for c in service.list_clients().await.map_err(text)? {
                println!("{}", describe(&c));
            }
        }
        ClientCommand::Show { id } => {
            println!(
                "{}",
                describe(&service.find_client(&id).await.map_err(text)?)
            );
        }
        ClientCommand::RotateSecret { id } => {
            let rotated = service
                .rotate_client_secret(&actor, &id)
                .await
                .map_err(text)?;
            if let Some(secret) = rotated.secret {
                println!("client_secret={}", secret.expose());
            }
        }
        ClientCommand::Disable { id } => {
            let c = service
                .set_client_disabled(&actor, &id, true)
                .await
                .map_err(text)?;
            println!("{}", describe(&c));
        }
        ClientCommand::Enable { id } => {
            let c = service
                .set_client_disabled(&actor, &id, false)
                .await
                .map_err(text)?;
            println!("{}", describe(&c));
        }
        ClientCommand::Delete { id } => {
            service.delete_client(&actor, &id).await.map_err(text)?;
            println!("deleted {id}");
        }
    }
    Ok(())
}
