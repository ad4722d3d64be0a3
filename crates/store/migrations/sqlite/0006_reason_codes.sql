-- Why a message is not sent, as a stable code for programs beside the text for staff
-- (`guest_email_missing` beside "guest email missing"). Rows from before keep their text and
-- no code.
ALTER TABLE messages ADD COLUMN status_code TEXT;
