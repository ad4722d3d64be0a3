-- PostgreSQL-shaped columns: ids become uuid, instants timestamptz, local dates date, flags
-- boolean and JSON documents jsonb, so an operator can query the database by hand
-- (`WHERE due_at > now() - interval '1 day'`, `sms_settings->>'sender'`). Until now this schema
-- mirrored SQLite's (TEXT ids, BIGINT milliseconds); the SQLite schema keeps those shapes and
-- the store encodes each value per backend. Existing rows are converted in place:
-- milliseconds since the Unix epoch become exact timestamptz values.
--
-- Foreign keys are dropped while their columns change type, then added again under the
-- names PostgreSQL gave them (`<table>_<column>_fkey`).

CREATE FUNCTION pg_temp.ms_to_ts(ms BIGINT) RETURNS TIMESTAMPTZ
    LANGUAGE sql IMMUTABLE AS $$ SELECT TIMESTAMPTZ 'epoch' + ms * INTERVAL '1 millisecond' $$;

ALTER TABLE api_keys DROP CONSTRAINT api_keys_account_id_fkey;
ALTER TABLE notifications DROP CONSTRAINT notifications_account_id_fkey;
ALTER TABLE properties DROP CONSTRAINT properties_account_id_fkey;
ALTER TABLE contacts DROP CONSTRAINT contacts_account_id_fkey;
ALTER TABLE bookings DROP CONSTRAINT bookings_account_id_fkey;
ALTER TABLE bookings DROP CONSTRAINT bookings_property_id_fkey;
ALTER TABLE bookings DROP CONSTRAINT bookings_contact_id_fkey;
ALTER TABLE booking_changes DROP CONSTRAINT booking_changes_booking_id_fkey;
ALTER TABLE templates DROP CONSTRAINT templates_account_id_fkey;
ALTER TABLE templates DROP CONSTRAINT templates_property_id_fkey;
ALTER TABLE rules DROP CONSTRAINT rules_account_id_fkey;
ALTER TABLE rules DROP CONSTRAINT rules_property_id_fkey;
ALTER TABLE rules DROP CONSTRAINT rules_template_id_fkey;
ALTER TABLE rules DROP CONSTRAINT rules_fallback_template_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_account_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_property_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_booking_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_rule_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_contact_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_campaign_id_fkey;
ALTER TABLE message_bodies DROP CONSTRAINT message_bodies_message_id_fkey;
ALTER TABLE message_events DROP CONSTRAINT message_events_message_id_fkey;
ALTER TABLE sms_campaigns DROP CONSTRAINT sms_campaigns_account_id_fkey;
ALTER TABLE sms_campaigns DROP CONSTRAINT sms_campaigns_property_id_fkey;
ALTER TABLE sms_usage DROP CONSTRAINT sms_usage_property_id_fkey;
ALTER TABLE inbound_sms DROP CONSTRAINT inbound_sms_account_id_fkey;
ALTER TABLE sms_consent_events DROP CONSTRAINT sms_consent_events_account_id_fkey;
ALTER TABLE sms_consent_events DROP CONSTRAINT sms_consent_events_contact_id_fkey;
ALTER TABLE sms_consent_events DROP CONSTRAINT sms_consent_events_inbound_id_fkey;
ALTER TABLE tans DROP CONSTRAINT tans_account_id_fkey;
ALTER TABLE tans DROP CONSTRAINT tans_contact_id_fkey;

ALTER TABLE accounts
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at);
ALTER TABLE api_keys
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at),
    ALTER COLUMN revoked_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(revoked_at);
ALTER TABLE properties
    ALTER COLUMN sms_settings DROP DEFAULT,
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at),
    ALTER COLUMN sms_settings TYPE JSONB USING sms_settings::jsonb,
    ALTER COLUMN sms_settings SET DEFAULT '{}';
ALTER TABLE contacts
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at),
    ALTER COLUMN birth_date TYPE DATE USING birth_date::date;
ALTER TABLE bookings
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN property_id TYPE UUID USING property_id::uuid,
    ALTER COLUMN contact_id TYPE UUID USING contact_id::uuid,
    ALTER COLUMN starts_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(starts_at),
    ALTER COLUMN ends_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(ends_at),
    ALTER COLUMN option_until TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(option_until),
    ALTER COLUMN hold_expires_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(hold_expires_at),
    ALTER COLUMN status_changed_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(status_changed_at),
    ALTER COLUMN modified_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(modified_at),
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at),
    ALTER COLUMN arrival TYPE DATE USING arrival::date,
    ALTER COLUMN departure TYPE DATE USING departure::date,
    ALTER COLUMN sms_reminders TYPE BOOLEAN USING sms_reminders <> 0;
ALTER TABLE booking_changes
    ALTER COLUMN booking_id TYPE UUID USING booking_id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN changes TYPE JSONB USING changes::jsonb;
ALTER TABLE templates
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN property_id TYPE UUID USING property_id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at),
    ALTER COLUMN variants TYPE JSONB USING variants::jsonb;
ALTER TABLE rules
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN property_id TYPE UUID USING property_id::uuid,
    ALTER COLUMN template_id TYPE UUID USING template_id::uuid,
    ALTER COLUMN fallback_template_id TYPE UUID USING fallback_template_id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at),
    ALTER COLUMN enabled TYPE BOOLEAN USING enabled <> 0,
    ALTER COLUMN conditions TYPE JSONB USING conditions::jsonb;
ALTER TABLE messages
    ALTER COLUMN forced DROP DEFAULT,
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN property_id TYPE UUID USING property_id::uuid,
    ALTER COLUMN booking_id TYPE UUID USING booking_id::uuid,
    ALTER COLUMN rule_id TYPE UUID USING rule_id::uuid,
    ALTER COLUMN contact_id TYPE UUID USING contact_id::uuid,
    ALTER COLUMN campaign_id TYPE UUID USING campaign_id::uuid,
    ALTER COLUMN due_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(due_at),
    ALTER COLUMN run_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(run_at),
    ALTER COLUMN lease_until TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(lease_until),
    ALTER COLUMN sent_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(sent_at),
    ALTER COLUMN delivered_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(delivered_at),
    ALTER COLUMN early_report_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(early_report_at),
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at),
    ALTER COLUMN forced TYPE BOOLEAN USING forced <> 0,
    ALTER COLUMN forced SET DEFAULT false;
ALTER TABLE message_bodies
    ALTER COLUMN message_id TYPE UUID USING message_id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at);
ALTER TABLE message_events
    ALTER COLUMN message_id TYPE UUID USING message_id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at);
ALTER TABLE notifications
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN property_id TYPE UUID USING property_id::uuid,
    ALTER COLUMN message_id TYPE UUID USING message_id::uuid,
    ALTER COLUMN read_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(read_at),
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at);
ALTER TABLE idempotency_keys
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at);
ALTER TABLE sms_campaigns
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN property_id TYPE UUID USING property_id::uuid,
    ALTER COLUMN send_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(send_at),
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at),
    ALTER COLUMN filter TYPE JSONB USING filter::jsonb;
ALTER TABLE sms_usage
    ALTER COLUMN limit_notified DROP DEFAULT,
    ALTER COLUMN property_id TYPE UUID USING property_id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at),
    ALTER COLUMN limit_notified TYPE BOOLEAN USING limit_notified <> 0,
    ALTER COLUMN limit_notified SET DEFAULT false;
ALTER TABLE inbound_sms
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN received_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(received_at),
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN raw TYPE JSONB USING raw::jsonb;
ALTER TABLE sms_consent_events
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN contact_id TYPE UUID USING contact_id::uuid,
    ALTER COLUMN inbound_id TYPE UUID USING inbound_id::uuid,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at);
ALTER TABLE tans
    ALTER COLUMN id TYPE UUID USING id::uuid,
    ALTER COLUMN account_id TYPE UUID USING account_id::uuid,
    ALTER COLUMN contact_id TYPE UUID USING contact_id::uuid,
    ALTER COLUMN expires_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(expires_at),
    ALTER COLUMN verified_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(verified_at),
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at),
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(updated_at);
ALTER TABLE installation_secrets
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING pg_temp.ms_to_ts(created_at);

ALTER TABLE api_keys ADD CONSTRAINT api_keys_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE notifications ADD CONSTRAINT notifications_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE properties ADD CONSTRAINT properties_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE contacts ADD CONSTRAINT contacts_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE bookings ADD CONSTRAINT bookings_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE bookings ADD CONSTRAINT bookings_property_id_fkey FOREIGN KEY (property_id) REFERENCES properties (id);
ALTER TABLE bookings ADD CONSTRAINT bookings_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id);
ALTER TABLE booking_changes ADD CONSTRAINT booking_changes_booking_id_fkey FOREIGN KEY (booking_id) REFERENCES bookings (id);
ALTER TABLE templates ADD CONSTRAINT templates_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE templates ADD CONSTRAINT templates_property_id_fkey FOREIGN KEY (property_id) REFERENCES properties (id);
ALTER TABLE rules ADD CONSTRAINT rules_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE rules ADD CONSTRAINT rules_property_id_fkey FOREIGN KEY (property_id) REFERENCES properties (id);
ALTER TABLE rules ADD CONSTRAINT rules_template_id_fkey FOREIGN KEY (template_id) REFERENCES templates (id);
ALTER TABLE rules ADD CONSTRAINT rules_fallback_template_id_fkey FOREIGN KEY (fallback_template_id) REFERENCES templates (id);
ALTER TABLE messages ADD CONSTRAINT messages_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE messages ADD CONSTRAINT messages_property_id_fkey FOREIGN KEY (property_id) REFERENCES properties (id);
ALTER TABLE messages ADD CONSTRAINT messages_booking_id_fkey FOREIGN KEY (booking_id) REFERENCES bookings (id);
ALTER TABLE messages ADD CONSTRAINT messages_rule_id_fkey FOREIGN KEY (rule_id) REFERENCES rules (id);
ALTER TABLE messages ADD CONSTRAINT messages_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id);
ALTER TABLE messages ADD CONSTRAINT messages_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES sms_campaigns (id);
ALTER TABLE message_bodies ADD CONSTRAINT message_bodies_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages (id);
ALTER TABLE message_events ADD CONSTRAINT message_events_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages (id);
ALTER TABLE sms_campaigns ADD CONSTRAINT sms_campaigns_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE sms_campaigns ADD CONSTRAINT sms_campaigns_property_id_fkey FOREIGN KEY (property_id) REFERENCES properties (id);
ALTER TABLE sms_usage ADD CONSTRAINT sms_usage_property_id_fkey FOREIGN KEY (property_id) REFERENCES properties (id);
ALTER TABLE inbound_sms ADD CONSTRAINT inbound_sms_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE sms_consent_events ADD CONSTRAINT sms_consent_events_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE sms_consent_events ADD CONSTRAINT sms_consent_events_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id);
ALTER TABLE sms_consent_events ADD CONSTRAINT sms_consent_events_inbound_id_fkey FOREIGN KEY (inbound_id) REFERENCES inbound_sms (id);
ALTER TABLE tans ADD CONSTRAINT tans_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE tans ADD CONSTRAINT tans_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id);
