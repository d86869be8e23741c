-- The record of how many events predate the chain proved nothing (anyone who can write the
-- tables can rewrite it). twofold seals the events it describes into the authenticated stream
-- 'legacy' just before this migration runs (that needs the master key, which SQL does not have);
-- from here on every event outside a chain is reported by `twofold audit verify`.
DROP TABLE audit_legacy;
