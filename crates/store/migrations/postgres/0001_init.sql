-- bellhop schema, PostgreSQL flavour: the same tables, columns and constraint names as the
-- SQLite migrations (the store runs the same statements on both). Instants are BIGINT
-- milliseconds since the Unix epoch (UTC); local dates are TEXT 'YYYY-MM-DD'; ids are TEXT UUIDs.

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- API keys are shown once; only the SHA-256 of the secret part is kept.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,   -- public lookup part of the key ("bh_<prefix>_<secret>")
    secret_hash TEXT NOT NULL,   -- hex SHA-256 of the secret part
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix)
);

CREATE TABLE properties (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    name             TEXT NOT NULL,
    time_zone        TEXT NOT NULL,   -- IANA name
    country          TEXT NOT NULL,   -- ISO 3166-1 alpha-2
    default_language TEXT NOT NULL,
    check_in_time    TEXT NOT NULL,   -- HH:MM local: the instant a stay's arrival day is planned from
    check_out_time   TEXT NOT NULL,
    sender_email     TEXT NOT NULL,
    sender_name      TEXT NOT NULL,
    reply_to         TEXT,
    layout_html      TEXT,            -- wraps every email body; {{ content }} marks the body
    layout_text      TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX properties_account ON properties (account_id);

CREATE TABLE contacts (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    first_name  TEXT,
    last_name   TEXT,
    email       TEXT,
    phone       TEXT,
    language    TEXT,
    address     TEXT,
    postal_code TEXT,
    city        TEXT,
    country     TEXT,
    nationality TEXT,
    birth_date  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX contacts_account_email ON contacts (account_id, email);

CREATE TABLE bookings (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id),
    property_id       TEXT NOT NULL REFERENCES properties (id),
    contact_id        TEXT NOT NULL REFERENCES contacts (id),
    kind              TEXT NOT NULL,
    status            TEXT NOT NULL,
    arrival           TEXT,      -- stays
    departure         TEXT,
    starts_at         BIGINT,   -- appointments
    ends_at           BIGINT,
    option_until      BIGINT,
    hold_expires_at   BIGINT,
    room_category     TEXT,
    service           TEXT,
    staff             TEXT,
    source_channel    TEXT,
    external_id       TEXT,
    voucher           TEXT,
    price_cents       BIGINT,
    deposit_cents     BIGINT,
    paid_cents        BIGINT,
    guests            BIGINT,
    language          TEXT,
    notes             TEXT,
    version           BIGINT NOT NULL,
    status_changed_at BIGINT NOT NULL,  -- when the current status was entered
    status_version    BIGINT NOT NULL,  -- in which version
    modified_at       BIGINT,           -- last change the guest is told about (dates, room, ...)
    modified_version  BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX bookings_property_created ON bookings (property_id, created_at);
CREATE INDEX bookings_account_created ON bookings (account_id, created_at);
CREATE INDEX bookings_contact ON bookings (contact_id);

-- Every change of a booking: who, when, what (a JSON object field -> [old, new]).
CREATE TABLE booking_changes (
    booking_id  TEXT NOT NULL REFERENCES bookings (id),
    version     BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    changes     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT booking_changes_pkey PRIMARY KEY (booking_id, version)
);

CREATE TABLE templates (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    property_id TEXT NOT NULL REFERENCES properties (id),
    name        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    category    TEXT NOT NULL,
    variants    TEXT NOT NULL,   -- JSON object: language -> {subject, html, text?}
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE rules (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    property_id   TEXT NOT NULL REFERENCES properties (id),
    name          TEXT NOT NULL,
    anchor        TEXT NOT NULL,
    offset_amount BIGINT NOT NULL,
    offset_unit   TEXT NOT NULL,
    time_of_day   TEXT,
    conditions    TEXT NOT NULL,   -- JSON, see domain::rule::Conditions
    channel       TEXT NOT NULL,
    template_id   TEXT NOT NULL REFERENCES templates (id),
    late_policy   TEXT NOT NULL,
    enabled       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX rules_property ON rules (property_id);

-- The outbox. One row per (booking, rule, occurrence): the unique key is what makes a second
-- send for the same moment impossible.
CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    property_id   TEXT NOT NULL REFERENCES properties (id),
    booking_id    TEXT NOT NULL REFERENCES bookings (id),
    rule_id       TEXT NOT NULL REFERENCES rules (id),
    contact_id    TEXT NOT NULL REFERENCES contacts (id),
    occurrence    TEXT NOT NULL,
    channel       TEXT NOT NULL,
    status        TEXT NOT NULL,
    status_reason TEXT,
    cancelled_by  TEXT,              -- 'planner' or 'staff'; staff cancellations are never re-planned
    due_at        BIGINT NOT NULL,  -- when it should go out
    run_at        BIGINT NOT NULL,  -- when a dispatcher may next take it (due_at, or the next retry)
    attempt       BIGINT NOT NULL DEFAULT 0,
    forced        BIGINT NOT NULL DEFAULT 0, -- staff said "send now": the due-time check at send time is skipped
    lease_owner   TEXT,              -- node holding the claim
    lease_until   BIGINT,           -- the claim lapses after this; fencing uses (lease_owner, attempt)
    recipient     TEXT,
    subject       TEXT,
    language      TEXT,
    provider_ref  TEXT,
    sent_at       BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    CONSTRAINT messages_occurrence_key UNIQUE (booking_id, rule_id, occurrence)
) WITH (fillfactor = 80);  -- each message is updated in place a few times: room for HOT updates
CREATE INDEX messages_runnable ON messages (run_at) WHERE status IN ('planned', 'deferred');
CREATE INDEX messages_leased ON messages (lease_until) WHERE status = 'sending';
CREATE INDEX messages_account_due ON messages (account_id, due_at);
CREATE INDEX messages_rule ON messages (rule_id);
CREATE INDEX messages_contact ON messages (contact_id);

-- What exactly was sent. Kept apart from the outbox rows: appending a cold row is cheap,
-- growing a hot outbox row by kilobytes in place is not, and the outbox stays compact to scan.
-- Bodies are LZ4-compressed UTF-8 (size-prefixed blocks): a 4 KB HTML mail shrinks about
-- fourfold, and the outbox writes a quarter of the bytes.
CREATE TABLE message_bodies (
    message_id  TEXT PRIMARY KEY REFERENCES messages (id),
    body_html   BYTEA,
    body_text   BYTEA,
    created_at  BIGINT NOT NULL
);

-- Status history: one row per transition.
CREATE TABLE message_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  TEXT NOT NULL REFERENCES messages (id),
    status      TEXT NOT NULL,
    detail      TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX message_events_message ON message_events (message_id, id);

-- Failures and other things staff must see.
CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    property_id TEXT,
    message_id  TEXT,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    read_at     BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX notifications_account ON notifications (account_id, created_at);

-- Idempotency-Key replay: the response of the first request with a key.
CREATE TABLE idempotency_keys (
    account_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code  BIGINT,
    response     TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (account_id, key)
);
