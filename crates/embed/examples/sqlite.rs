//! Tessera's use cases over a SQLite file (migrated at start), mail written
//! as `.eml` files by the delivery worker.
//!
//! Run with `cargo run -p tessera-embed --example sqlite`.

mod flow;

use tessera_embed::{Secret, Tessera};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mail_dir = dir.path().join("mail");
    let tessera = Tessera::builder()
        .sqlite(dir.path().join("auth.db"))
        // In a real service: Secret::from_bytes(std::env::var("AUTH_SECRET")?)?,
        // the same on every start (it signs tokens and binds refresh tokens).
        .secret(Secret::generate()?)
        .mail(flow::example_mail(&mail_dir)?)
        .build()
        .await?;
    flow::run(tessera, &mail_dir).await
}
