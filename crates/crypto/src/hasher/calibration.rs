//! Measuring argon2id on this machine (`tessera calibrate`).

use argon2::password_hash::PasswordHasher as _;
use tessera_domain::error::HashError;

use super::{Argon2Params, argon2id};

/// One measured setting of [`calibrate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    /// The parameters measured.
    pub params: Argon2Params,
    /// The median time of one hash with them, on this machine.
    pub hash_time: std::time::Duration,
}

/// Times argon2id hashes on this machine, starting from `start` and raising
/// the passes (then the memory) until one hash takes at least `target`, or
/// `max_steps` settings were tried. Returns every setting measured (median of
/// seven hashes each), the last one the first to reach the target.
///
/// # Errors
/// When parameters are out of argon2's range.
pub fn calibrate(
    start: Argon2Params,
    target: std::time::Duration,
    max_steps: usize,
) -> Result<Vec<Calibration>, HashError> {
    let mut params = start;
    let mut out = Vec::new();
    for _ in 0..max_steps.max(1) {
        let argon = argon2id(params)?;
        let mut times = Vec::new();
        // One hash to warm the allocator and caches, then seven timed ones.
        argon
            .hash_password(b"calibration-password")
            .map_err(|e| HashError::Failed(e.to_string()))?;
        for _ in 0..7 {
            let started = std::time::Instant::now();
            argon
                .hash_password(b"calibration-password")
                .map_err(|e| HashError::Failed(e.to_string()))?;
            times.push(started.elapsed());
        }
        times.sort();
        let hash_time = times[3];
        out.push(Calibration { params, hash_time });
        if hash_time >= target {
            break;
        }
        // OWASP's equivalent settings trade memory for passes; raise passes
        // first (cheap in memory per concurrent login), memory after t=4.
        if params.iterations < 4 {
            params.iterations += 1;
        } else {
            params.memory_kib = params.memory_kib.saturating_mul(2);
        }
    }
    Ok(out)
}

/// Hashes per second with `threads` threads hashing at once (`per_thread`
/// hashes each, after one warm-up each) — the real ceiling of logins when
/// every CPU hashes, which is lower than CPUs ÷ one hash's time alone where
/// concurrent hashes share memory bandwidth and caches.
///
/// # Errors
/// When parameters are out of argon2's range.
pub fn parallel_throughput(
    params: Argon2Params,
    threads: usize,
    per_thread: usize,
) -> Result<f64, HashError> {
    let argon = argon2id(params)?;
    let barrier = std::sync::Barrier::new(threads.max(1));
    let started = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                let _ = argon.hash_password(b"calibration-password");
                if barrier.wait().is_leader()
                    && let Ok(mut at) = started.lock()
                {
                    *at = Some(std::time::Instant::now());
                }
                for _ in 0..per_thread {
                    let _ = argon.hash_password(b"calibration-password");
                }
            });
        }
    });
    let elapsed = started
        .lock()
        .ok()
        .and_then(|at| *at)
        .map_or(f64::INFINITY, |at| at.elapsed().as_secs_f64());
    Ok((threads.max(1) * per_thread) as f64 / elapsed)
}
