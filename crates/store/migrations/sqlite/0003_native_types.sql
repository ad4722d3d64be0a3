-- Nothing changes on SQLite: PostgreSQL's columns became uuid, timestamptz, date, boolean and
-- jsonb in its 0003; SQLite keeps TEXT ids, INTEGER milliseconds, TEXT dates, INTEGER flags and
-- TEXT JSON, and the store encodes each value for the backend it runs on. The number is kept
-- so that both backends count their migrations alike.
SELECT 1;
