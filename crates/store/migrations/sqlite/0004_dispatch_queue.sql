-- The dispatch queue: the messages a dispatcher may take — planned or deferred ones, and the
-- ones being sent (with the lease that says until when). It is the outbox's index, kept apart
-- from `messages` so that claiming and recording a message leave `messages` without any
-- index on the columns they change (PostgreSQL then updates those rows in place, without
-- touching a single index: heap-only tuples). Rows are added when a message becomes runnable
-- and removed when it reaches a final status, in the transaction that changes the message.
CREATE TABLE dispatch_queue (
    message_id  TEXT PRIMARY KEY REFERENCES messages (id),
    run_at      INTEGER NOT NULL,            -- when it may be taken (due time, or the next retry)
    priority    INTEGER NOT NULL DEFAULT 0,  -- above 0 (one-time codes): taken before anything else
    lease_until INTEGER                      -- being sent until then; NULL: waiting
);
CREATE INDEX dispatch_queue_due ON dispatch_queue (run_at);
CREATE INDEX dispatch_queue_urgent ON dispatch_queue (run_at) WHERE priority > 0;

INSERT INTO dispatch_queue (message_id, run_at, priority, lease_until)
SELECT id, run_at, priority, CASE WHEN status = 'sending' THEN lease_until END
FROM messages WHERE status IN ('planned', 'deferred', 'sending');

DROP INDEX messages_runnable;
DROP INDEX messages_leased;
DROP INDEX messages_urgent;
