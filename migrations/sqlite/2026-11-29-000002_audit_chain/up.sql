-- Tamper evidence: every writer (a serving node, one CLI run) appends to a stream of its own, each
-- event MACed (HMAC-SHA256 under a key derived from master key `key_id`) over its stream's previous
-- one. The stream row holds the head, so a writer's transaction takes its row lock and nodes never
-- wait on each other.
CREATE TABLE audit_streams (
    id          TEXT PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    key_id      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    head        BLOB NOT NULL
);

-- Events written before the chain existed (and by older twofold versions during a rolling
-- upgrade) land in stream 'unchained' without a hash.
ALTER TABLE audit_events ADD COLUMN stream TEXT NOT NULL DEFAULT 'unchained';
ALTER TABLE audit_events ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_events ADD COLUMN hash BLOB;
UPDATE audit_events SET seq = id;
CREATE UNIQUE INDEX audit_events_stream_seq ON audit_events (stream, seq) WHERE stream <> 'unchained';
-- What existed before the chain, so that `audit verify` can tell those events from later ones.
CREATE TABLE audit_legacy (
    events  BIGINT NOT NULL,
    max_id  BIGINT NOT NULL
);
INSERT INTO audit_legacy (events, max_id) SELECT COUNT(*), COALESCE(MAX(id), 0) FROM audit_events;
CREATE INDEX audit_events_tenant_id ON audit_events (tenant, id);
CREATE INDEX audit_events_at ON audit_events (at);

-- Admin search by id prefix uses GLOB (case-sensitive), which walks the users primary key.
