-- Sealed events stay in stream 'legacy', which the previous version checks like any stream.
CREATE TABLE audit_legacy (
    events  BIGINT NOT NULL,
    max_id  BIGINT NOT NULL
);
INSERT INTO audit_legacy (events, max_id) VALUES (0, 0);
