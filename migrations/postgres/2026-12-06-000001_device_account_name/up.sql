-- The account name a TOTP device's Key URI shows in the authenticator app (an e-mail address,
-- say), as the relying party passed it at enrollment; NULL: the user id. The label stays
-- twofold's own name for the device.
ALTER TABLE devices ADD COLUMN account_name TEXT;
