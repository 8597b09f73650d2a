//! Tessera's use cases in one process, every store in memory, mail written
//! as `.eml` files by the delivery worker.
//!
//! Run with `cargo run -p tessera-embed --example memory`.

mod flow;

use tessera_embed::{MailSink, Secret, Tessera};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mail_dir = tempfile::tempdir()?;
    let tessera = Tessera::builder()
        .memory()
        // A secret for this process only: tokens die with it.
        .secret(Secret::generate()?)
        .mail(MailSink::files(
            mail_dir.path(),
            "Example",
            "no-reply@example.com",
        )?)
        .build()
        .await?;
    let running = tessera.spawn_workers();
    flow::walk(&running, mail_dir.path()).await?;
    running.stop().await;
    Ok(())
}
