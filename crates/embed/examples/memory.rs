//! Tessera's use cases in one process, every store in memory, mail written
//! as `.eml` files by the delivery worker.
//!
//! Run with `cargo run -p tessera-embed --example memory`.

mod flow;

use tessera_embed::{Secret, Tessera};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mail_dir = tempfile::tempdir()?;
    let tessera = Tessera::builder()
        .memory()
        // A secret for this process only: tokens die with it.
        .secret(Secret::generate()?)
        .mail(flow::example_mail(mail_dir.path())?)
        .build()
        .await?;
    flow::run(tessera, mail_dir.path()).await
}
