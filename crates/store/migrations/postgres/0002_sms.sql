-- SMS: sender and settings per property, phone numbers in E.164 with their type, SMS rules
-- with a fallback template, the outbox for messages without a booking (one-time codes, bulk
-- SMS), billing per local month, delivery reports, inbound SMS and opt-out events.
-- Same tables, columns and constraint names as migrations/sqlite/0002_sms.sql.

ALTER TABLE properties ADD COLUMN sms_sender TEXT;
ALTER TABLE properties ADD COLUMN sms_settings TEXT NOT NULL DEFAULT '{}';
CREATE INDEX properties_sms_sender ON properties (sms_sender);

ALTER TABLE contacts ADD COLUMN phone_e164 TEXT;
ALTER TABLE contacts ADD COLUMN phone_type TEXT;
CREATE INDEX contacts_account_phone ON contacts (account_id, phone_e164);

ALTER TABLE bookings ADD COLUMN sms_reminders BIGINT;

ALTER TABLE rules ADD COLUMN fallback_template_id TEXT REFERENCES templates (id);

CREATE TABLE sms_campaigns (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    property_id TEXT NOT NULL REFERENCES properties (id),
    name        TEXT NOT NULL,
    text        TEXT NOT NULL,
    filter      TEXT NOT NULL,
    send_at     BIGINT NOT NULL,
    recipients  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX sms_campaigns_property ON sms_campaigns (property_id, created_at);

ALTER TABLE messages
    ALTER COLUMN booking_id DROP NOT NULL,
    ALTER COLUMN rule_id DROP NOT NULL,
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'rule',
    ADD COLUMN campaign_id TEXT REFERENCES sms_campaigns (id),
    ADD COLUMN priority BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN sms_text TEXT,
    ADD COLUMN parts BIGINT,
    ADD COLUMN encoding TEXT,
    ADD COLUMN billing_month TEXT,
    ADD COLUMN delivered_at BIGINT,
    ADD COLUMN early_report TEXT,
    ADD COLUMN early_report_at BIGINT,
    ADD COLUMN early_report_detail TEXT,
    ADD CONSTRAINT messages_campaign_key UNIQUE (campaign_id, contact_id);
CREATE INDEX messages_urgent ON messages (run_at) WHERE priority > 0 AND status IN ('planned', 'deferred');
CREATE INDEX messages_billing ON messages (property_id, billing_month) WHERE billing_month IS NOT NULL;

CREATE TABLE sms_usage (
    property_id    TEXT NOT NULL REFERENCES properties (id),
    month          TEXT NOT NULL,
    parts          BIGINT NOT NULL DEFAULT 0,
    limit_notified BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CONSTRAINT sms_usage_pkey PRIMARY KEY (property_id, month)
);

CREATE TABLE inbound_sms (
    id          TEXT PRIMARY KEY,
    account_id  TEXT REFERENCES accounts (id),
    gateway     TEXT NOT NULL,
    sender      TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    text        TEXT NOT NULL,
    keyword     TEXT,
    raw         TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX inbound_sms_account ON inbound_sms (account_id, received_at);

CREATE TABLE sms_consent_events (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    phone_e164  TEXT NOT NULL,
    contact_id  TEXT REFERENCES contacts (id),
    action      TEXT NOT NULL,
    source      TEXT NOT NULL,
    keyword     TEXT,
    inbound_id  TEXT REFERENCES inbound_sms (id),
    actor       TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX sms_consent_events_phone ON sms_consent_events (account_id, phone_e164, created_at);
CREATE INDEX sms_consent_events_contact ON sms_consent_events (contact_id, created_at);

CREATE TABLE tans (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    contact_id  TEXT NOT NULL REFERENCES contacts (id),
    code_hash   TEXT NOT NULL,
    purpose     TEXT,
    attempts    BIGINT NOT NULL DEFAULT 0,
    expires_at  BIGINT NOT NULL,
    verified_at BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE installation_secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
