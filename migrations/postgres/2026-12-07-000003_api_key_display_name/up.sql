-- The name a key's hosted pages show for whose site is asking ("Sign in to Shop"), where it
-- differs from the tenant's; NULL: the tenant's name.
ALTER TABLE api_keys ADD COLUMN display_name TEXT;
