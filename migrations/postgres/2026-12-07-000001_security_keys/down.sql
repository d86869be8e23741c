DROP TABLE security_keys;
ALTER TABLE api_keys DROP COLUMN webauthn_rp_id;
ALTER TABLE api_keys DROP COLUMN webauthn_origins;
DELETE FROM devices WHERE kind NOT IN ('totp', 'sms');
ALTER TABLE devices ADD CONSTRAINT devices_kind_check CHECK (kind IN ('totp', 'sms'));
