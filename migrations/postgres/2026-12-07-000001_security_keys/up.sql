-- Security keys (WebAuthn). The CHECK on devices.kind goes: kinds are read by the application,
-- which refuses one it does not know, and a new kind then needs no migration.
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;

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
