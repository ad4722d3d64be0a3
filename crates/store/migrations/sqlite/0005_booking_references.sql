-- Imports and channels find a booking by the reference its source gave it (external_id, with
-- the property and source channel), so that the same file or push imported twice changes
-- nothing the second time.
CREATE INDEX bookings_reference ON bookings (account_id, external_id);

-- Nothing looks messages up by rule alone (a rule change re-plans bookings): one index less to
-- write for every planned message.
DROP INDEX messages_rule;
