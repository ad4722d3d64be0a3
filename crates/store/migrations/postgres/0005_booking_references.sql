-- Imports and channels find a booking by the reference its source gave it (external_id, with
-- the property and source channel), so that the same file or push imported twice changes
-- nothing the second time.
CREATE INDEX bookings_reference ON bookings (account_id, external_id);
