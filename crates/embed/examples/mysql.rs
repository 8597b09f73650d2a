//! Tessera's use cases over MySQL or MariaDB (the database is made and
//! migrated at start), mail written as `.eml` files by the delivery worker;
//! with `REDIS_URL` set (and the `redis` feature), sessions live in Redis.
//!
//! Run with `DATABASE_URL=mysql://root@127.0.0.1:3306/tessera_example
//! cargo run -p tessera-embed --features mysql --example mysql`.

mod flow;

use tessera_embed::{Secret, Tessera};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| "set DATABASE_URL, e.g. mysql://root@127.0.0.1:3306/tessera_example")?;
    let mail_dir = tempfile::tempdir()?;
    let builder = Tessera::builder()
        .mysql(url)
        .secret(Secret::generate()?)
        .mail(flow::example_mail(mail_dir.path())?);
    #[cfg(feature = "redis")]
    let builder = match std::env::var("REDIS_URL") {
        Ok(redis) => builder.redis(redis),
        Err(_) => builder,
    };
    flow::run(builder.build().await?, mail_dir.path()).await
}
