-- Why a message is not sent, as a stable code for programs beside the text for staff
-- (`guest_email_missing` beside "guest email missing"). Rows from before keep their text and
-- no code.
ALTER TABLE messages ADD COLUMN status_code TEXT;

-- A notice keeps its facts (JSON) beside its kind; the text staff read is written when it is
-- read. `text` stays for the rows from before, and is empty in new ones.
ALTER TABLE notifications ADD COLUMN facts TEXT;

-- How a property presents itself in its mails (logo, colour, address, phone, links).
ALTER TABLE properties ADD COLUMN brand TEXT NOT NULL DEFAULT '{}';

-- A bulk SMS in more than one language: the other languages' texts (language tag → text).
ALTER TABLE sms_campaigns ADD COLUMN translations TEXT NOT NULL DEFAULT '{}';
