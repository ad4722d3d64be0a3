//! The names of the engine's metrics (Prometheus, through the `metrics` facade), in one place.
//! The binary installs the recorder; without one, recording costs next to nothing.

/// Messages handed to a transport or settled otherwise, by `outcome` (sent, suppressed,
/// deferred, failed, rescheduled, rejected, stale) and `channel` (email, sms, voice, or the
/// rule's channel when nothing went out).
pub const DISPATCHED: &str = "bellhop_messages_dispatched_total";
/// Seconds from a message's due time until its transport accepted it.
pub const DUE_TO_SENT: &str = "bellhop_due_to_sent_seconds";
/// Messages per claimed batch.
pub const CLAIM_BATCH: &str = "bellhop_claim_batch_size";
/// Seconds a transport took to answer a batch, by `transport` (email, sms, voice).
pub const TRANSPORT_BATCH: &str = "bellhop_transport_batch_seconds";

/// Inbound mail taken by the autoresponder, by `decision` (replied, not_replied, failed).
pub const INBOUND_MAIL: &str = "bellhop_inbound_mail_total";

/// Records one inbound mail's decision.
pub(crate) fn inbound_mail(decision: &str) {
    metrics::counter!(INBOUND_MAIL, "decision" => decision.to_owned()).increment(1);
}

/// Records a claimed batch's size.
pub(crate) fn claimed(n: usize) {
    metrics::histogram!(CLAIM_BATCH).record(n as f64);
}

/// Records `n` settled messages of one outcome.
pub(crate) fn dispatched(outcome: &'static str, channel: &str, n: usize) {
    metrics::counter!(DISPATCHED, "outcome" => outcome, "channel" => channel.to_owned())
        .increment(n as u64);
}

/// Records how late a sent message went out.
pub(crate) fn due_to_sent(seconds: f64) {
    metrics::histogram!(DUE_TO_SENT).record(seconds.max(0.0));
}

/// Records how long a transport took for a batch.
pub(crate) fn transport_batch(transport: &'static str, seconds: f64) {
    metrics::histogram!(TRANSPORT_BATCH, "transport" => transport).record(seconds);
}

/// One log line per settled message (target `bellhop::message`): ids, channel, outcome and,
/// when it was not sent, why. Filter with `BELLHOP_LOG=info,bellhop::message=warn`.
pub(crate) fn settled(
    o: &bellhop_store::Outcome,
    outcome: &'static str,
    channel: &'static str,
    why: &str,
) {
    if why.is_empty() {
        tracing::info!(target: "bellhop::message", message_id = %o.id, account_id = %o.account_id,
            property_id = %o.property_id, attempt = o.attempt, channel, outcome);
    } else {
        tracing::info!(target: "bellhop::message", message_id = %o.id, account_id = %o.account_id,
            property_id = %o.property_id, attempt = o.attempt, channel, outcome, why);
    }
}
