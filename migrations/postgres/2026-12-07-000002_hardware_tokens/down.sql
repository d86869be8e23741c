DROP TABLE tokens;
ALTER TABLE devices DROP COLUMN public_id;
ALTER TABLE devices DROP COLUMN token_serial;
