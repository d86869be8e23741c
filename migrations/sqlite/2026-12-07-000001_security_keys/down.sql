DROP TABLE security_keys;
ALTER TABLE api_keys DROP COLUMN webauthn_rp_id;
ALTER TABLE api_keys DROP COLUMN webauthn_origins;
DELETE FROM devices WHERE kind NOT IN ('totp', 'sms');
CREATE TABLE devices_rebuilt (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('totp', 'sms')),
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
