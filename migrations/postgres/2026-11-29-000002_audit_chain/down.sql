DROP INDEX users_tenant_user_pattern;
DROP INDEX audit_events_at;
DROP INDEX audit_events_tenant_id;
DROP INDEX audit_events_stream_seq;
ALTER TABLE audit_events DROP COLUMN hash;
ALTER TABLE audit_events DROP COLUMN seq;
ALTER TABLE audit_events DROP COLUMN stream;
DROP TABLE audit_legacy;
DROP TABLE audit_streams;
