ALTER TABLE api_keys DROP COLUMN display_name;
