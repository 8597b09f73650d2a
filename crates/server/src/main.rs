//! The `tessera` binary: see [`tessera_server::cli`].

use clap::Parser as _;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    tessera_server::cli::run(tessera_server::cli::Cli::parse()).await
}
