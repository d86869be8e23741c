-- Ids are text, times naive UTC, bytes BYTEA: the types diesel's MultiConnection shares with SQLite.

CREATE TABLE users (
    tenant      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant, user_id)
);

CREATE TABLE devices (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('totp', 'sms')),
    label         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
    secret_sealed BYTEA,
    key_id        TEXT,
    algorithm     TEXT NOT NULL DEFAULT 'SHA1',
    digits        INTEGER NOT NULL DEFAULT 6,
    period        INTEGER NOT NULL DEFAULT 30,
    phone         TEXT,
    -- The last accepted TOTP time step; -1 = none yet. Replay protection compares-and-sets it.
    last_step     BIGINT NOT NULL DEFAULT -1,
    -- Enrolled with a step-up assertion or by an admin key: may be confirmed even when the user
    -- has gained an active device since (SEC-7).
    step_up       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP,
    confirmed_at  TIMESTAMP,
    last_used_at  TIMESTAMP,
    revoked_at    TIMESTAMP,
    FOREIGN KEY (tenant, user_id) REFERENCES users (tenant, user_id)
);
CREATE INDEX devices_user ON devices (tenant, user_id);
-- Labels are unique per user among devices that still count.
CREATE UNIQUE INDEX devices_label ON devices (tenant, user_id, label) WHERE status <> 'revoked';

CREATE TABLE recovery_codes (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    code_hash   BYTEA NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    FOREIGN KEY (tenant, user_id) REFERENCES users (tenant, user_id)
);
CREATE INDEX recovery_codes_user ON recovery_codes (tenant, user_id);

CREATE TABLE api_keys (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('client', 'admin')),
    -- NULL: an admin key for every tenant.
    tenant              TEXT,
    -- Newline-separated return URL prefixes allowed for hosted-page links.
    return_url_prefixes TEXT NOT NULL DEFAULT '',
    key_hash            BYTEA NOT NULL UNIQUE,
    created_at          TIMESTAMP NOT NULL,
    revoked_at          TIMESTAMP
);

CREATE TABLE audit_events (
    id         BIGSERIAL PRIMARY KEY,
    at         TIMESTAMP NOT NULL,
    tenant     TEXT NOT NULL,
    user_id    TEXT,
    device_id  TEXT,
    action     TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    actor      TEXT NOT NULL,
    ip         TEXT,
    detail     TEXT
);
CREATE INDEX audit_events_tenant_user ON audit_events (tenant, user_id, id);
CREATE INDEX audit_events_tenant_action ON audit_events (tenant, action, id);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    algorithm       TEXT NOT NULL,
    public_key      BYTEA NOT NULL,
    private_sealed  BYTEA NOT NULL,
    key_id          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    -- Set when a newer key takes over: no longer signs, still published until its assertions expire.
    retired_at      TIMESTAMP
);
