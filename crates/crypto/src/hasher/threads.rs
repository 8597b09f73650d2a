//! The dedicated hashing threads of [`super::Argon2Hasher`].

use std::sync::Arc;

use tessera_domain::error::HashError;

pub(super) type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads: `max_in_flight` of them, for the hasher's lifetime.
///
/// Not tokio's blocking pool: that pool grows to hundreds of threads under
/// load (database work uses it too), and glibc keeps a freed 19 MiB argon2
/// block in each thread's arena, so RSS grew to a gigabyte under a login
/// flood. A fixed set of threads keeps it to one block per thread.
pub(super) struct Pool {
    pub(super) jobs: std::sync::mpsc::Sender<Job>,
}

impl Pool {
    pub(super) fn start(threads: usize) -> Result<Self, HashError> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("tessera-hash-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // the hasher is gone
                        }
                    }
                })
                .map_err(|e| HashError::Failed(format!("hash thread: {e}")))?;
        }
        Ok(Self { jobs })
    }
}

/// Hash threads run at niceness 10: under a login flood they still take
/// every idle cycle, but a cheap request (`/me`, refresh) waiting for a CPU
/// gets it first, so hashing cannot starve the rest of the service.
fn lower_priority() {
    use thread_priority::{ThreadPriority, ThreadPriorityValue};
    // Crossplatform 22 of 0..=99 maps to niceness 10 on Linux.
    if let Ok(p) = ThreadPriorityValue::try_from(22_u8) {
        let _ = thread_priority::set_current_thread_priority(ThreadPriority::Crossplatform(p));
    }
}
