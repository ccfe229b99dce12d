//! The audit writer: operations record events without waiting; a background task appends them
//! to the database in batches (one transaction per batch), and flushes what is buffered at
//! shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use portcullis_core::audit::{AuditEvent, AuditSink};
use portcullis_core::store::AuditStore;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Events buffered before new ones are dropped (and counted): far above what the writer
/// drains in a second, so only a database outage fills it.
const BUFFER: usize = 50_000;
/// Events per transaction.
const BATCH: usize = 500;
/// How long the writer gathers a batch once it has one event.
const LINGER: Duration = Duration::from_millis(20);

enum Message {
    Event(Box<AuditEvent>),
    Flush(oneshot::Sender<()>),
}

/// The sink handed to operations.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    sender: mpsc::Sender<Message>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("audit message")
    }
}

impl AuditSink for AuditWriter {
    fn record(&self, event: AuditEvent) {
        if self
            .sender
            .try_send(Message::Event(Box::new(event)))
            .is_err()
        {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::error!(
                    dropped,
                    "audit buffer full (is the database down?); events dropped"
                );
            }
        }
    }
}

impl AuditWriter {
    /// Starts the writer task over `store`.
    pub fn start(store: Arc<dyn AuditStore>) -> (Self, JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(BUFFER);
        let task = tokio::spawn(run(store, receiver));
        (
            Self {
                sender,
                dropped: Arc::new(AtomicU64::new(0)),
            },
            task,
        )
    }

    /// Waits until everything recorded before this call is written (or `limit` passes).
    pub async fn flush(&self, limit: Duration) {
        let (done, wait) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = tokio::time::timeout(limit, wait).await;
        }
    }

    /// Events dropped because the buffer was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn run(store: Arc<dyn AuditStore>, mut receiver: mpsc::Receiver<Message>) {
    let mut batch: Vec<AuditEvent> = Vec::with_capacity(BATCH);
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = receiver.recv().await {
        let mut next = Some(first);
        let deadline = tokio::time::Instant::now() + LINGER;
        while let Some(message) = next.take() {
            match message {
                Message::Event(event) => batch.push(*event),
                Message::Flush(done) => {
                    waiting.push(done);
                    break;
                }
            }
            if batch.len() >= BATCH {
                break;
            }
            next = tokio::time::timeout_at(deadline, receiver.recv())
                .await
                .ok()
                .flatten();
        }
        write(store.as_ref(), &mut batch).await;
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
    write(store.as_ref(), &mut batch).await;
}

/// Writes a batch, retrying while the database is unavailable (events wait in memory).
async fn write(store: &dyn AuditStore, batch: &mut Vec<AuditEvent>) {
    let mut delay = Duration::from_millis(100);
    while !batch.is_empty() {
        match store.append_audit(batch).await {
            Ok(()) => batch.clear(),
            Err(error) => {
                tracing::warn!(%error, events = batch.len(), "audit write failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
