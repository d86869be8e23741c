DROP TABLE signing_keys;
DROP TABLE audit_events;
DROP TABLE api_keys;
DROP TABLE recovery_codes;
DROP TABLE devices;
DROP TABLE users;
