-- Booking channels: connections per property (a hashed key, or an AlpineBits user and hashed
-- password), the channel's reservations mapped onto bellhop bookings, and the core API's
-- external_id made unique per property and source.

CREATE TABLE channel_connections (
    id                UUID PRIMARY KEY,
    account_id        UUID NOT NULL REFERENCES accounts (id),
    property_id       UUID NOT NULL REFERENCES properties (id),
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,               -- 'json' or 'alpinebits'
    key_prefix        TEXT NOT NULL UNIQUE,        -- finds the key (json) or is the user name (alpinebits)
    secret_hash       TEXT NOT NULL,               -- SHA-256 of the key's secret or the password
    webhook_url       TEXT,                        -- where staff changes go back
    secret_generation BIGINT NOT NULL DEFAULT 1,  -- the webhook signing secret is derived from it
    hold_minutes      BIGINT NOT NULL DEFAULT 60,
    poll_url          TEXT,                        -- an AlpineBits server to poll for GuestRequests
    poll_user         TEXT,
    poll_hotel_code   TEXT,                        -- the HotelCode of OTA_ReadRQ
    poll_secret       TEXT,                        -- sealed under the installation key
    poll_every_secs   BIGINT,
    poll_due_at       TIMESTAMPTZ,
    poll_owner        TEXT,                        -- the node polling now, until poll_until
    poll_until        TIMESTAMPTZ,
    last_activity_at  TIMESTAMPTZ,
    last_error        TEXT,
    last_error_at     TIMESTAMPTZ,
    revoked_at        TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX channel_connections_property ON channel_connections (property_id);

-- One row per reservation a channel sent: which booking it is, the newest version taken and a
-- hash of its content (the same push again changes nothing). A replacement order (the old one
-- closed, a new one for new dates) points at the same booking; `replaced_by` marks the old.
CREATE TABLE channel_reservations (
    connection_id    UUID NOT NULL REFERENCES channel_connections (id),
    external_id      TEXT NOT NULL,
    booking_id       UUID NOT NULL REFERENCES bookings (id),
    revision         BIGINT,
    modified_at      TIMESTAMPTZ,
    content_hash     TEXT NOT NULL,
    status           TEXT NOT NULL,
    held_since       TIMESTAMPTZ,                      -- first seen as an unpaid cart hold
    hold_reported_at TIMESTAMPTZ,                      -- staff told that the channel keeps it
    replaced_by      TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connection_id, external_id)
);
CREATE INDEX channel_reservations_booking ON channel_reservations (booking_id);

CREATE INDEX bookings_voucher ON bookings (account_id, voucher) WHERE voucher IS NOT NULL;

-- Earlier releases let the same external_id be created twice: the later copies keep their
-- reference with a suffix, so the rule can hold from now on.
UPDATE bookings SET external_id = external_id || ' (duplicate ' || id || ')'
 WHERE external_id IS NOT NULL AND id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (
            PARTITION BY property_id, COALESCE(source_channel, ''), external_id
            ORDER BY created_at, id) AS n
          FROM bookings WHERE external_id IS NOT NULL) AS ranked
     WHERE n > 1);
CREATE UNIQUE INDEX bookings_external_key
    ON bookings (property_id, COALESCE(source_channel, ''), external_id)
    WHERE external_id IS NOT NULL;
