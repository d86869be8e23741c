-- Hardware OTP tokens: an inventory of tokens that exist before they have an owner (imported
-- from PSKC or a YubiKey personalization log), and on devices the mark of a hardware one.

-- The serial of the inventory token behind a device (NULL: a soft device); the assertion's amr
-- then says `hwk`. A Yubico OTP device's public id, which its OTPs begin with.
ALTER TABLE devices ADD COLUMN token_serial TEXT;
ALTER TABLE devices ADD COLUMN public_id TEXT;

CREATE TABLE tokens (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    serial        TEXT NOT NULL,
    -- hotp, totp or yubico
    kind          TEXT NOT NULL,
    manufacturer  TEXT,
    -- The import that brought it (one id per file).
    batch         TEXT NOT NULL,
    -- The seed (HOTP/TOTP) or the AES key and private id (Yubico OTP), sealed with the token id
    -- as associated data; re-sealed under the device id when assigned.
    secret_sealed BYTEA NOT NULL,
    key_id        TEXT NOT NULL,
    algorithm     TEXT NOT NULL,
    digits        INTEGER NOT NULL,
    period        INTEGER NOT NULL,
    -- The last counter used (HOTP: the first code is counter + 1; Yubico OTP: use and session
    -- counters as one number); -1 = none yet. Carried to the device and back, so a code used
    -- before an unassignment never works again.
    last_step     BIGINT NOT NULL,
    public_id     TEXT,
    not_before    TIMESTAMP,
    not_after     TIMESTAMP,
    -- unassigned, assigned or revoked
    status        TEXT NOT NULL,
    user_id       TEXT,
    device_id     TEXT,
    created_at    TIMESTAMP NOT NULL,
    assigned_at   TIMESTAMP,
    revoked_at    TIMESTAMP
);
CREATE UNIQUE INDEX tokens_serial ON tokens (tenant, serial);
CREATE UNIQUE INDEX tokens_public_id ON tokens (tenant, public_id);
CREATE INDEX tokens_status ON tokens (tenant, status);
