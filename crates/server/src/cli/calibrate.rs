//! `tessera calibrate`: argon2id timings on this machine.

use crate::config::Config;

/// Prints the time of one hash per setting and the logins per second it
/// allows (CPUs ÷ hash time, the hash-bound limit), then the throughput of
/// the configured setting with every CPU hashing, and a suggestion.
///
/// # Errors
/// The hasher's message when a setting cannot be timed.
pub(super) fn calibrate(config: &Config, target_ms: u64) -> Result<(), String> {
    let argon2 = config.passwords.argon2;
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let rows = tessera_crypto::calibrate(argon2, std::time::Duration::from_millis(target_ms), 8)
        .map_err(|e| e.to_string())?;
    println!("argon2id on {cpus} CPU(s), target {target_ms} ms per hash:");
    for r in &rows {
        let ms = r.hash_time.as_secs_f64() * 1000.0;
        println!(
            "  m={} KiB t={} p={}: {ms:.1} ms per hash, at most {:.0} logins/s",
            r.params.memory_kib,
            r.params.iterations,
            r.params.parallelism,
            cpus as f64 / r.hash_time.as_secs_f64()
        );
    }
    let parallel =
        tessera_crypto::parallel_throughput(argon2, cpus, 8).map_err(|e| e.to_string())?;
    println!(
        "with all {cpus} CPUs hashing (m={} KiB t={} p={}): {parallel:.0} hashes/s",
        argon2.memory_kib, argon2.iterations, argon2.parallelism
    );
    if let Some(last) = rows.last() {
        println!(
            "suggested: ARGON2_MEMORY_KIB={} ARGON2_ITERATIONS={} ARGON2_PARALLELISM={}",
            last.params.memory_kib, last.params.iterations, last.params.parallelism
        );
    }
    Ok(())
}
