-- One consent model: events per contact point (a lower-case email address or an E.164
-- number) × purpose (service, marketing, personalized) × channel (email, sms), append-only;
-- the latest event decides. The SMS opt-outs kept so far move into it with their evidence.

-- The texts customers were shown when they decided, per property and language, versioned.
CREATE TABLE consent_texts (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    property_id TEXT NOT NULL REFERENCES properties (id),
    language    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    CONSTRAINT consent_texts_version_key UNIQUE (property_id, language, version)
);

CREATE TABLE consent_events (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    contact_id  TEXT REFERENCES contacts (id),     -- NULL once the contact was erased
    property_id TEXT REFERENCES properties (id),   -- where it was given, when known
    address     TEXT NOT NULL,                     -- the contact point; 'sha256:…' once erased
    purpose     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    granted     INTEGER NOT NULL,
    source      TEXT NOT NULL,
    actor       TEXT,
    text_id     TEXT REFERENCES consent_texts (id),
    ip          TEXT,
    user_agent  TEXT,
    evidence    TEXT NOT NULL DEFAULT '{}',       -- keyword, inbound SMS, confirmation, ...
    created_at  INTEGER NOT NULL
);
CREATE INDEX consent_events_address ON consent_events (account_id, address, created_at);
CREATE INDEX consent_events_contact ON consent_events (contact_id, created_at);

-- Double opt-in for marketing email: asked for on the consent page, granted only on the click.
CREATE TABLE consent_confirmations (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    contact_id   TEXT REFERENCES contacts (id),
    property_id  TEXT NOT NULL REFERENCES properties (id),
    address      TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    text_id      TEXT REFERENCES consent_texts (id),
    ip           TEXT,
    user_agent   TEXT,
    expires_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    event_id     TEXT REFERENCES consent_events (id),
    created_at   INTEGER NOT NULL
);
CREATE INDEX consent_confirmations_contact ON consent_confirmations (contact_id);

-- When a contact was erased (GDPR Art. 17): the row keeps only its id.
ALTER TABLE contacts ADD COLUMN erased_at INTEGER;

-- Whether service messages need explicit consent at this property.
ALTER TABLE properties ADD COLUMN consent_policy TEXT NOT NULL DEFAULT '{}';

-- An SMS opt-out withdrew SMS of every purpose; each becomes one withdrawal per purpose with
-- the same source, time and evidence. An opt-in lifted it: it becomes a grant of service SMS
-- only (it never was a grant of advertising). Both are marked as an opt-out of SMS as
-- a whole (which spares service SMS where the property reads STOP as marketing only).
INSERT INTO consent_events (id, account_id, contact_id, address, purpose, channel, granted, source,
    actor, evidence, created_at)
SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-8'
        || substr(h, 18, 3) || '-' || substr(h, 21, 12),
    account_id, contact_id, phone_e164, purpose, 'sms', action = 'opt_in', source, actor,
    json_object('keyword', keyword, 'inbound_id', inbound_id,
        'sms_opt_out', json('true'), 'migrated_from', 'sms_consent_events', 'migrated_id', id),
    created_at
FROM (
    SELECT lower(hex(randomblob(16))) AS h, e.*, p.purpose
    FROM sms_consent_events e
    CROSS JOIN (SELECT 'service' AS purpose UNION ALL SELECT 'marketing' UNION ALL SELECT 'personalized') p
    WHERE e.action = 'opt_out' OR p.purpose = 'service'
);

DROP TABLE sms_consent_events;
