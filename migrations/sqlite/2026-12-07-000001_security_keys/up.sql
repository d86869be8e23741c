-- Security keys (WebAuthn). SQLite cannot drop a CHECK constraint, so devices is rebuilt without
-- the one on kind: kinds are read by the application, which refuses one it does not know, and a
-- new kind then needs no migration.
CREATE TABLE devices_rebuilt (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    label         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
    secret_sealed BLOB,
    key_id        TEXT,
    algorithm     TEXT NOT NULL DEFAULT 'SHA1',
    digits        INTEGER NOT NULL DEFAULT 6,
    period        INTEGER NOT NULL DEFAULT 30,
    phone         TEXT,
    last_step     BIGINT NOT NULL DEFAULT -1,
    step_up       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP,
    confirmed_at  TIMESTAMP,
    last_used_at  TIMESTAMP,
    revoked_at    TIMESTAMP,
    account_name  TEXT,
    FOREIGN KEY (tenant, user_id) REFERENCES users (tenant, user_id)
);
INSERT INTO devices_rebuilt (id, tenant, user_id, kind, label, status, secret_sealed, key_id,
    algorithm, digits, period, phone, last_step, step_up, created_at, expires_at, confirmed_at,
    last_used_at, revoked_at, account_name)
SELECT id, tenant, user_id, kind, label, status, secret_sealed, key_id, algorithm, digits,
    period, phone, last_step, step_up, created_at, expires_at, confirmed_at, last_used_at,
    revoked_at, account_name FROM devices;
DROP TABLE devices;
ALTER TABLE devices_rebuilt RENAME TO devices;
CREATE INDEX devices_user ON devices (tenant, user_id);
CREATE UNIQUE INDEX devices_label ON devices (tenant, user_id, label) WHERE status <> 'revoked';

-- A security key's WebAuthn credential, written when its device is confirmed. For security keys
-- devices.last_step holds the signature counter (compared-and-set on every use).
CREATE TABLE security_keys (
    device_id         TEXT PRIMARY KEY REFERENCES devices (id),
    tenant            TEXT NOT NULL,
    -- base64url, as browsers and the API write it.
    credential_id     TEXT NOT NULL,
    -- The RP ID the credential is scoped to: twofold's, or the one of the API key that ran the
    -- ceremony on its own site.
    rp_id             TEXT NOT NULL,
    -- The credential as webauthn-rs keeps it (public key, flags, attestation), as JSON.
    credential        TEXT NOT NULL,
    aaguid            TEXT,
    model             TEXT,
    user_verified     BOOLEAN NOT NULL,
    -- Set when a signature counter went backwards: a cloned key, or a broken one.
    clone_detected_at TIMESTAMP
);
-- A credential belongs to one device of the tenant (a revoked device's row is cleared when the
-- same key is registered again).
CREATE UNIQUE INDEX security_keys_credential ON security_keys (tenant, credential_id);

-- Origins where a relying party runs WebAuthn ceremonies on its own pages (newline-separated),
-- and the RP ID they use (NULL: each origin's host).
ALTER TABLE api_keys ADD COLUMN webauthn_origins TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN webauthn_rp_id TEXT;
