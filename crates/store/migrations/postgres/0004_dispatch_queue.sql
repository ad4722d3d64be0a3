-- The dispatch queue: the messages a dispatcher may take — planned or deferred ones, and the
-- ones being sent (with the lease that says until when). It is the outbox's index, kept apart
-- from `messages` so that claiming and recording a message leave `messages` without any
-- index on the columns they change: those updates are heap-only tuples (HOT), written in
-- place without a single index entry (before, each of the two updates of a message added an
-- entry to every one of its ten indexes). Rows are added when a message becomes runnable and
-- removed when it reaches a final status, in the transaction that changes the message.
CREATE TABLE dispatch_queue (
    message_id  UUID PRIMARY KEY REFERENCES messages (id),
    run_at      TIMESTAMPTZ NOT NULL,        -- when it may be taken (due time, or the next retry)
    priority    BIGINT NOT NULL DEFAULT 0,   -- above 0 (one-time codes): taken before anything else
    lease_until TIMESTAMPTZ                  -- being sent until then; NULL: waiting
) WITH (fillfactor = 70);  -- a claim sets lease_until in place (HOT): leave room on each page
CREATE INDEX dispatch_queue_due ON dispatch_queue (run_at);
CREATE INDEX dispatch_queue_urgent ON dispatch_queue (run_at) WHERE priority > 0;

INSERT INTO dispatch_queue (message_id, run_at, priority, lease_until)
SELECT id, run_at, priority, CASE WHEN status = 'sending' THEN lease_until END
FROM messages WHERE status IN ('planned', 'deferred', 'sending');

DROP INDEX messages_runnable;
DROP INDEX messages_leased;
DROP INDEX messages_urgent;

-- Room for the two in-place updates of each message (claimed, then sent) on its own page: at
-- 80 % a page of freshly planned messages has space for a fifth of them, and the rest of the
-- updates wrote new index entries after all.
ALTER TABLE messages SET (fillfactor = 50);

-- Kept bodies are LZ4-compressed already (about 2 KB for a 4 KB mail with its text part):
-- no second compression attempt, and kept in the row rather than chunked into the TOAST table.
ALTER TABLE message_bodies
    ALTER COLUMN body_html SET STORAGE EXTERNAL,
    ALTER COLUMN body_text SET STORAGE EXTERNAL;
ALTER TABLE message_bodies SET (toast_tuple_target = 8160);
