-- SMS: sender and settings per property, phone numbers in E.164 with their type, SMS rules
-- with a fallback template, the outbox for messages without a booking (one-time codes, bulk
-- SMS), billing per local month, delivery reports, inbound SMS and opt-out events.

ALTER TABLE properties ADD COLUMN sms_sender TEXT;            -- also in sms_settings; here to find a property by the number an SMS was sent to
ALTER TABLE properties ADD COLUMN sms_settings TEXT NOT NULL DEFAULT '{}';  -- JSON, see domain::property::SmsSettings
CREATE INDEX properties_sms_sender ON properties (sms_sender);

ALTER TABLE contacts ADD COLUMN phone_e164 TEXT;
ALTER TABLE contacts ADD COLUMN phone_type TEXT;              -- mobile, fixed_line, ... (libphonenumber)
CREATE INDEX contacts_account_phone ON contacts (account_id, phone_e164);

ALTER TABLE bookings ADD COLUMN sms_reminders INTEGER;        -- the customer's choice when booking online; NULL: not asked

ALTER TABLE rules ADD COLUMN fallback_template_id TEXT REFERENCES templates (id);

-- A bulk SMS to a filtered set of contacts (marketing: opt-outs always apply).
CREATE TABLE sms_campaigns (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    property_id TEXT NOT NULL REFERENCES properties (id),
    name        TEXT NOT NULL,
    text        TEXT NOT NULL,     -- template text, rendered per contact (guest.*, property.*)
    filter      TEXT NOT NULL,     -- JSON: which contacts
    send_at     INTEGER NOT NULL,
    recipients  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX sms_campaigns_property ON sms_campaigns (property_id, created_at);

-- The outbox gains messages that belong to no booking, so booking_id and rule_id become
-- optional. SQLite cannot drop NOT NULL: the table is rebuilt, foreign keys checked at commit.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE messages_v1 AS SELECT * FROM messages;
DROP TABLE messages;
CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    property_id   TEXT NOT NULL REFERENCES properties (id),
    booking_id    TEXT REFERENCES bookings (id),   -- NULL for one-time codes and bulk SMS
    rule_id       TEXT REFERENCES rules (id),      -- NULL for one-time codes and bulk SMS
    contact_id    TEXT NOT NULL REFERENCES contacts (id),
    kind          TEXT NOT NULL DEFAULT 'rule',    -- 'rule' (planned from a booking), 'tan', 'bulk'
    campaign_id   TEXT REFERENCES sms_campaigns (id),
    occurrence    TEXT NOT NULL,
    channel       TEXT NOT NULL,     -- the rule's channel until sent; then email, sms or voice as sent
    status        TEXT NOT NULL,
    status_reason TEXT,
    cancelled_by  TEXT,              -- 'planner' or 'staff'; staff cancellations are never re-planned
    due_at        INTEGER NOT NULL,  -- when it should go out
    run_at        INTEGER NOT NULL,  -- when a dispatcher may next take it (due_at, or the next retry)
    attempt       INTEGER NOT NULL DEFAULT 0,
    forced        INTEGER NOT NULL DEFAULT 0, -- staff said "send now": the due-time check at send time is skipped
    priority      INTEGER NOT NULL DEFAULT 0, -- above 0 (one-time codes) is claimed before anything else
    lease_owner   TEXT,              -- node holding the claim
    lease_until   INTEGER,           -- the claim lapses after this; fencing uses (lease_owner, attempt)
    recipient     TEXT,
    subject       TEXT,
    language      TEXT,
    provider_ref  TEXT,
    sms_text      TEXT,              -- text of a message without a template; a one-time code's is erased once final
    parts         INTEGER,           -- SMS parts billed
    encoding      TEXT,              -- GSM-7 or UCS-2
    billing_month TEXT,              -- YYYY-MM (property time) the parts count in; set when reserved
    sent_at       INTEGER,
    delivered_at  INTEGER,           -- the delivery report said it reached the phone
    early_report  TEXT,              -- a final delivery report that came while the send was being recorded
    early_report_at INTEGER,
    early_report_detail TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CONSTRAINT messages_occurrence_key UNIQUE (booking_id, rule_id, occurrence),
    CONSTRAINT messages_campaign_key UNIQUE (campaign_id, contact_id)
);
INSERT INTO messages (id, account_id, property_id, booking_id, rule_id, contact_id, occurrence, channel,
    status, status_reason, cancelled_by, due_at, run_at, attempt, forced, lease_owner, lease_until,
    recipient, subject, language, provider_ref, sent_at, created_at, updated_at)
SELECT id, account_id, property_id, booking_id, rule_id, contact_id, occurrence, channel,
    status, status_reason, cancelled_by, due_at, run_at, attempt, forced, lease_owner, lease_until,
    recipient, subject, language, provider_ref, sent_at, created_at, updated_at
FROM messages_v1;
DROP TABLE messages_v1;
CREATE INDEX messages_runnable ON messages (run_at) WHERE status IN ('planned', 'deferred');
CREATE INDEX messages_urgent ON messages (run_at) WHERE priority > 0 AND status IN ('planned', 'deferred');
CREATE INDEX messages_leased ON messages (lease_until) WHERE status = 'sending';
CREATE INDEX messages_account_due ON messages (account_id, due_at);
CREATE INDEX messages_rule ON messages (rule_id);
CREATE INDEX messages_contact ON messages (contact_id);
CREATE INDEX messages_billing ON messages (property_id, billing_month) WHERE billing_month IS NOT NULL;

-- SMS parts counted per property and local month. The limit is checked and the count raised
-- in one statement, so concurrent dispatchers never overrun it.
CREATE TABLE sms_usage (
    property_id    TEXT NOT NULL REFERENCES properties (id),
    month          TEXT NOT NULL,               -- YYYY-MM in the property's zone
    parts          INTEGER NOT NULL DEFAULT 0,
    limit_notified INTEGER NOT NULL DEFAULT 0,  -- staff were told the limit was reached
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CONSTRAINT sms_usage_pkey PRIMARY KEY (property_id, month)
);

-- Every inbound SMS, as the gateway delivered it.
CREATE TABLE inbound_sms (
    id          TEXT PRIMARY KEY,
    account_id  TEXT REFERENCES accounts (id),  -- NULL when no account could be matched
    gateway     TEXT NOT NULL,
    sender      TEXT NOT NULL,                  -- E.164 when it parsed, else as received
    recipient   TEXT NOT NULL,                  -- our number or short code
    text        TEXT NOT NULL,
    keyword     TEXT,                           -- opt_out / opt_in, when it was one
    raw         TEXT NOT NULL,                  -- the callback's parameters (JSON), as evidence
    received_at INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX inbound_sms_account ON inbound_sms (account_id, received_at);

-- SMS opt-out and opt-in events: append-only; the latest per number is the state.
CREATE TABLE sms_consent_events (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    phone_e164  TEXT NOT NULL,
    contact_id  TEXT REFERENCES contacts (id),
    action      TEXT NOT NULL,     -- 'opt_out' or 'opt_in'
    source      TEXT NOT NULL,     -- 'sms_keyword', 'staff', 'api'
    keyword     TEXT,
    inbound_id  TEXT REFERENCES inbound_sms (id),  -- the SMS that asked for it
    actor       TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX sms_consent_events_phone ON sms_consent_events (account_id, phone_e164, created_at);
CREATE INDEX sms_consent_events_contact ON sms_consent_events (contact_id, created_at);

-- One-time codes: only a keyed hash of the code is kept.
CREATE TABLE tans (
    id          TEXT PRIMARY KEY,  -- the message id
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    contact_id  TEXT NOT NULL REFERENCES contacts (id),
    code_hash   TEXT NOT NULL,     -- hex HMAC-SHA256(secret, id || code)
    purpose     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL,
    verified_at INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Secrets this installation generates itself (the callback signing key), shared by its nodes.
CREATE TABLE installation_secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
