//! `tessera webhook create|list|disable|enable|delete|deliveries|secret`: the
//! endpoints that receive account events (issue 20), through the same use
//! cases as the admin API (audited with the `tessera-cli` user agent).
//! Messages are sent by a running server's worker, not by these commands.

use clap::Subcommand;
use tessera_domain::model::{WebhookEndpoint, WebhookId};
use tessera_domain::usecase::{Actor, WebhookError};

use crate::config::Config;
use crate::startup::build_service;

#[derive(Debug, Subcommand)]
pub(super) enum WebhookCommand {
    /// Subscribe an endpoint; prints its id and its signing secret (shown once).
    Create {
        /// `https://…`, or `http://` to a loopback host.
        #[arg(long)]
        url: String,
        /// Event types, space- or comma-separated (`user.created,role.granted`),
        /// or `*` for every one.
        #[arg(long)]
        events: String,
        /// A note for administrators (at most 200 characters).
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List the endpoints.
    List,
    /// Stop sending messages to an endpoint.
    Disable {
        /// The endpoint's id.
        id: i64,
    },
    /// Send messages to an endpoint again.
    Enable {
        /// The endpoint's id.
        id: i64,
    },
    /// Remove an endpoint and its deliveries.
    Delete {
        /// The endpoint's id.
        id: i64,
    },
    /// An endpoint's newest deliveries, with each attempt.
    Deliveries {
        /// The endpoint's id.
        id: i64,
    },
    /// Print a new signing secret (`whsec_` and 32 random bytes in base64),
    /// for `ACCESS_TOKEN_HOOK_SECRET`; nothing is stored.
    Secret,
}

fn describe(e: &WebhookEndpoint) -> String {
    format!(
        "{}\t{}\t{}\tevents={}\t{}",
        e.id,
        e.url,
        if e.enabled { "enabled" } else { "disabled" },
        e.events
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(","),
        e.description,
    )
}

/// Prints `whsec_` and 32 random bytes in base64.
fn print_new_secret() -> Result<(), String> {
    use base64::Engine as _;
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    println!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    );
    Ok(())
}

/// Runs a `webhook` command, printing what it did.
pub(super) async fn run(config: &Config, command: WebhookCommand) -> Result<(), String> {
    // The one command that needs no database.
    if matches!(command, WebhookCommand::Secret) {
        return print_new_secret();
    }
    let (service, _) = build_service(config).await.map_err(|e| e.to_string())?;
    let actor = Actor::operator();
    let text = |e: WebhookError| e.to_string();
    match command {
        WebhookCommand::Secret => print_new_secret()?,
        WebhookCommand::Create {
            url,
            events,
            description,
        } => {
            let events: Vec<&str> = events.split([' ', ',']).filter(|s| !s.is_empty()).collect();
            let endpoint = service
                .create_webhook(&actor, &url, &events, &description)
                .await
                .map_err(text)?;
            println!("{}", describe(&endpoint));
            println!("secret\t{}", endpoint.secret.expose());
        }
        WebhookCommand::List => {
            for e in service
                .list_webhooks(&actor)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{}", describe(&e));
            }
        }
        WebhookCommand::Disable { id } => {
            service
                .set_webhook_enabled(&actor, WebhookId(id), false)
                .await
                .map_err(text)?;
            println!("disabled {id}");
        }
        WebhookCommand::Enable { id } => {
            service
                .set_webhook_enabled(&actor, WebhookId(id), true)
                .await
                .map_err(text)?;
            println!("enabled {id}");
        }
        WebhookCommand::Delete { id } => {
            service
                .delete_webhook(&actor, WebhookId(id))
                .await
                .map_err(text)?;
            println!("deleted {id}");
        }
        WebhookCommand::Deliveries { id } => {
            for d in service
                .webhook_deliveries(&actor, WebhookId(id))
                .await
                .map_err(text)?
            {
                let statuses: Vec<String> = d
                    .history
                    .iter()
                    .map(|a| {
                        a.status
                            .map_or_else(|| a.error.clone().unwrap_or_default(), |s| s.to_string())
                    })
                    .collect();
                println!(
                    "{}\t{}\t{}\tuser={}\t{}\tattempts={}\t[{}]",
                    d.id,
                    d.message_id,
                    d.event.kind,
                    d.event.user,
                    d.state.as_str(),
                    d.attempts,
                    statuses.join(", "),
                );
            }
        }
    }
    Ok(())
}
