//! Diesel's view of the tables; kept by hand in step with `migrations/{sqlite,postgres}`.

diesel::table! {
    users (tenant, user_id) {
        tenant -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        tenant -> Text,
        user_id -> Text,
        kind -> Text,
        label -> Text,
        status -> Text,
        secret_sealed -> Nullable<Binary>,
        key_id -> Nullable<Text>,
        algorithm -> Text,
        digits -> Integer,
        period -> Integer,
        phone -> Nullable<Text>,
        last_step -> BigInt,
        step_up -> Bool,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        confirmed_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        account_name -> Nullable<Text>,
        token_serial -> Nullable<Text>,
        public_id -> Nullable<Text>,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        tenant -> Text,
        serial -> Text,
        kind -> Text,
        manufacturer -> Nullable<Text>,
        batch -> Text,
        secret_sealed -> Binary,
        key_id -> Text,
        algorithm -> Text,
        digits -> Integer,
        period -> Integer,
        last_step -> BigInt,
        public_id -> Nullable<Text>,
        not_before -> Nullable<Timestamp>,
        not_after -> Nullable<Timestamp>,
        status -> Text,
        user_id -> Nullable<Text>,
        device_id -> Nullable<Text>,
        created_at -> Timestamp,
        assigned_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Text,
        tenant -> Text,
        user_id -> Text,
        code_hash -> Binary,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        tenant -> Nullable<Text>,
        return_url_prefixes -> Text,
        key_hash -> Binary,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        webauthn_origins -> Text,
        webauthn_rp_id -> Nullable<Text>,
        display_name -> Nullable<Text>,
    }
}

diesel::table! {
    security_keys (device_id) {
        device_id -> Text,
        tenant -> Text,
        credential_id -> Text,
        rp_id -> Text,
        credential -> Text,
        aaguid -> Nullable<Text>,
        model -> Nullable<Text>,
        user_verified -> Bool,
        clone_detected_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(security_keys -> devices (device_id));

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> Timestamp,
        tenant -> Text,
        user_id -> Nullable<Text>,
        device_id -> Nullable<Text>,
        action -> Text,
        outcome -> Text,
        actor -> Text,
        ip -> Nullable<Text>,
        detail -> Nullable<Text>,
        stream -> Text,
        seq -> BigInt,
        hash -> Nullable<Binary>,
    }
}

diesel::table! {
    audit_streams (id) {
        id -> Text,
        started_at -> Timestamp,
        key_id -> Text,
        seq -> BigInt,
        head -> Binary,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        public_key -> Binary,
        private_sealed -> Binary,
        key_id -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    users,
    devices,
    recovery_codes,
    api_keys,
    audit_events,
    audit_streams,
    signing_keys,
    security_keys,
    tokens,
);
