//! Password hashing off the async runtime, on a few threads of its own.
//!
//! Each Argon2 computation allocates 19 MiB and frees it when done. Run on tokio's blocking
//! pool, a burst of logins took as many threads as it had requests, and the C allocator kept
//! a large share of each thread's peak afterwards: 1.7 GiB of RSS after a minute of code-flow
//! load was measured. Run on one thread per CPU, the CPUs are as busy as before, requests wait
//! their turn in a queue, and the memory is bounded by the number of threads.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

type Job = Box<dyn FnOnce() + Send>;

/// The queue of the hashing threads, or `None` when none could be started.
static QUEUE: LazyLock<Option<Mutex<mpsc::Sender<Job>>>> = LazyLock::new(start);

fn start() -> Option<Mutex<mpsc::Sender<Job>>> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let started = (0..threads)
        .filter(|n| {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || work(&receiver))
                .is_ok()
        })
        .count();
    if started == 0 {
        tracing::error!("cannot start password-hashing threads; hashing on the blocking pool");
        return None;
    }
    Some(Mutex::new(sender))
}

fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let queue = receiver.lock().unwrap_or_else(PoisonError::into_inner);
            match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        job();
    }
}

/// Password hashing failed: the work panicked, or could not be run.
#[derive(Debug, Clone, Copy)]
pub struct HashingFailed;

impl std::fmt::Display for HashingFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("password hashing failed")
    }
}

impl std::error::Error for HashingFailed {}

/// Runs `work` (`hash_password`, `verify_password`) on the hashing threads and waits for it.
///
/// # Errors
/// [`HashingFailed`] when `work` panicked.
pub async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashingFailed> {
    let Some(queue) = QUEUE.as_ref() else {
        return tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| HashingFailed);
    };
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(catch_unwind(AssertUnwindSafe(work)));
    });
    queue
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .send(job)
        .map_err(|_| HashingFailed)?;
    match result.await {
        Ok(Ok(value)) => Ok(value),
        _ => Err(HashingFailed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_hashing_threads_and_a_panic_is_an_error() {
        let name = off_runtime(|| std::thread::current().name().map(str::to_owned)).await;
        assert!(
            matches!(name, Ok(Some(ref n)) if n.starts_with("password-")),
            "{name:?}"
        );
        let panicked = off_runtime(|| -> u8 { panic!("boom") }).await;
        assert!(panicked.is_err());
        assert!(
            matches!(off_runtime(|| 7).await, Ok(7)),
            "threads survive a panic"
        );
    }
}

/// Password work for the core ([`portcullis_core::account::Passwords`]), on the hashing
/// threads.
#[derive(Clone)]
pub struct HashingThreads(pub Arc<dyn portcullis_core::random::SecretGenerator>);

impl std::fmt::Debug for HashingThreads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashingThreads")
    }
}

#[async_trait::async_trait]
impl portcullis_core::account::Passwords for HashingThreads {
    async fn verify(&self, hash: String, password: portcullis_proto::Secret) -> bool {
        off_runtime(move || portcullis_core::user::verify_password(&hash, &password))
            .await
            .unwrap_or(false)
    }

    async fn prepare(
        &self,
        email: String,
        name: String,
        password: portcullis_proto::Secret,
    ) -> Result<
        portcullis_core::admin::users::PreparedUser,
        portcullis_core::admin::users::NewUserError,
    > {
        let random = Arc::clone(&self.0);
        off_runtime(move || {
            portcullis_core::admin::users::prepare(random.as_ref(), &email, &name, &password)
        })
        .await
        .unwrap_or(Err(portcullis_core::admin::users::NewUserError::Hashing))
    }
}
