//! Delivery reports arrive as a burst of gateway callbacks, two per SMS. Each must be stored
//! before the gateway hears "200" — so rather than one synced commit per callback, the
//! callbacks that arrive while a commit runs wait for the next one and share it (group
//! commit). A report is answered only once the transaction holding it has committed.

use crate::error::EngineError;
use bellhop_domain::Delivery;
use bellhop_store::{DeliveryApplied, Store};
use jiff::Timestamp;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

type Answer = oneshot::Sender<Result<DeliveryApplied, EngineError>>;

struct Report {
    id: Uuid,
    report: Delivery,
    detail: String,
    at: Timestamp,
    answer: Answer,
}

/// Most reports in one transaction.
const MAX_BATCH: usize = 500;

/// The queue of reports waiting for a commit; its worker starts with the first report.
#[derive(Clone)]
pub(crate) struct DeliveryQueue {
    sender: mpsc::Sender<Report>,
    receiver: Arc<Mutex<Option<mpsc::Receiver<Report>>>>,
}

impl std::fmt::Debug for DeliveryQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeliveryQueue")
    }
}

impl DeliveryQueue {
    pub(crate) fn new() -> Self {
        let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
        DeliveryQueue {
            sender,
            receiver: Arc::new(Mutex::new(Some(receiver))),
        }
    }

    /// Stores one report, together with whatever else is waiting, and answers once committed.
    pub(crate) async fn apply(
        &self,
        store: &Store,
        id: Uuid,
        report: Delivery,
        detail: &str,
        at: Timestamp,
    ) -> Result<DeliveryApplied, EngineError> {
        self.start(store);
        let (answer, answered) = oneshot::channel();
        let gone = || EngineError::Busy("the delivery-report queue stopped".into());
        self.sender
            .send(Report {
                id,
                report,
                detail: detail.to_owned(),
                at,
                answer,
            })
            .await
            .map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }

    fn start(&self, store: &Store) {
        let taken = self.receiver.lock().ok().and_then(|mut r| r.take());
        if let Some(receiver) = taken {
            tokio::spawn(run(store.clone(), receiver));
        }
    }
}

async fn run(store: Store, mut receiver: mpsc::Receiver<Report>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        // The batch is stamped with its newest report's time.
        let at = batch
            .iter()
            .map(|r| r.at)
            .max()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let items: Vec<(Uuid, Delivery, String)> = batch
            .iter()
            .map(|r| (r.id, r.report, r.detail.clone()))
            .collect();
        match store.apply_deliveries(&items, at).await {
            Ok(results) => {
                for (r, result) in batch.into_iter().zip(results) {
                    let _ = r.answer.send(result.map_err(EngineError::from));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, reports = batch.len(), "delivery reports not stored");
                let why = e.to_string();
                for r in batch {
                    let _ = r.answer.send(Err(EngineError::Busy(why.clone())));
                }
            }
        }
    }
}
