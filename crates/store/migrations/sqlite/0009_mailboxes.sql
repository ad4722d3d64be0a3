-- The autoresponder: mailboxes (an address, aliases, replies per language, an active window,
-- the reply period, case numbers), every inbound mail with its decision, and who was answered
-- when (the once-per-period rule).

-- Sequences (the autoresponder's cycles): steps at offsets from a contact's enrolment, each a
-- template; a contact is in a sequence at most once at a time.
CREATE TABLE sequences (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    property_id         TEXT NOT NULL REFERENCES properties (id),
    name                TEXT NOT NULL,
    steps               TEXT NOT NULL,                -- JSON [{offset, template_id}]
    enrol_new_bookings  INTEGER NOT NULL DEFAULT 0,  -- every new booking's guest is enrolled
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX sequences_account ON sequences (account_id);
CREATE INDEX sequences_property ON sequences (property_id) WHERE enrol_new_bookings = 1;

CREATE TABLE sequence_enrolments (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    sequence_id  TEXT NOT NULL REFERENCES sequences (id),
    contact_id   TEXT NOT NULL REFERENCES contacts (id),
    source       TEXT NOT NULL,                -- 'api', 'inbound_mail', 'booking'
    status       TEXT NOT NULL,                -- 'active', 'completed', 'stopped', 'unenrolled'
    enrolled_at  INTEGER NOT NULL,
    ended_at     INTEGER,
    end_reason   TEXT
);
CREATE UNIQUE INDEX sequence_enrolments_active ON sequence_enrolments (sequence_id, contact_id) WHERE status = 'active';
CREATE INDEX sequence_enrolments_contact ON sequence_enrolments (contact_id);

CREATE TABLE mailboxes (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    property_id      TEXT NOT NULL REFERENCES properties (id),
    name             TEXT NOT NULL,
    address          TEXT NOT NULL,
    aliases          TEXT NOT NULL DEFAULT '[]',   -- JSON list of lowercased addresses
    replies          TEXT NOT NULL,                -- JSON {language: {subject?, body}}
    default_language TEXT NOT NULL,
    enabled          INTEGER NOT NULL DEFAULT 1,
    active_from      INTEGER,
    active_until     INTEGER,
    period_secs      INTEGER NOT NULL DEFAULT 604800, -- 0: answer every mail
    case_prefix      TEXT,                           -- 'REK': case numbers REK-2026-000123
    sequence_id      TEXT REFERENCES sequences (id),   -- senders are enrolled in it
    imap_host        TEXT,                           -- a hosted mailbox watched over IMAP
    imap_port        INTEGER,
    imap_tls         INTEGER NOT NULL DEFAULT 1,
    imap_user        TEXT,
    imap_secret      TEXT,                           -- the password, sealed under the installation key
    imap_folder      TEXT,
    imap_uid_validity INTEGER,                          -- UIDs taken are comparable under this value only
    imap_last_uid    INTEGER,                           -- the last UID taken
    imap_owner       TEXT,                           -- the node watching it, until imap_until
    imap_until       INTEGER,
    imap_error       TEXT,
    imap_checked_at  INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX mailboxes_account ON mailboxes (account_id);

-- Every address and alias routes to one mailbox of the installation.
CREATE TABLE mailbox_addresses (
    address     TEXT PRIMARY KEY,
    mailbox_id  TEXT NOT NULL REFERENCES mailboxes (id)
);
CREATE INDEX mailbox_addresses_mailbox ON mailbox_addresses (mailbox_id);

-- The last case number per mailbox and year, taken under the row's lock.
CREATE TABLE mailbox_cases (
    mailbox_id  TEXT NOT NULL REFERENCES mailboxes (id),
    year        INTEGER NOT NULL,
    last        INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, year)
);

-- When each sender was last answered by each mailbox.
CREATE TABLE mailbox_replies (
    mailbox_id  TEXT NOT NULL REFERENCES mailboxes (id),
    sender      TEXT NOT NULL,
    replied_at  INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, sender)
);

CREATE TABLE inbound_mails (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    property_id      TEXT NOT NULL REFERENCES properties (id),
    mailbox_id       TEXT NOT NULL REFERENCES mailboxes (id),
    via              TEXT NOT NULL,               -- 'smtp' or 'api'
    source_key       TEXT,                        -- where it was read from, so it is taken once
    envelope_from    TEXT,
    envelope_to      TEXT,
    from_address     TEXT,
    from_name        TEXT,
    subject          TEXT,
    message_id       TEXT,
    language         TEXT,
    decision         TEXT NOT NULL,               -- 'replied', 'not_replied', 'failed'
    reason_code      TEXT NOT NULL,
    reason           TEXT NOT NULL,
    case_number      TEXT UNIQUE,
    contact_id       TEXT REFERENCES contacts (id),
    reply_message_id TEXT REFERENCES messages (id),
    raw              BLOB,                       -- LZ4, as message bodies
    size             INTEGER NOT NULL,
    received_at      INTEGER NOT NULL
);
CREATE INDEX inbound_mails_account ON inbound_mails (account_id, received_at);
CREATE INDEX inbound_mails_contact ON inbound_mails (contact_id);
CREATE UNIQUE INDEX inbound_mails_source ON inbound_mails (mailbox_id, source_key);
