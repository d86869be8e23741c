ALTER TABLE devices DROP COLUMN account_name;
