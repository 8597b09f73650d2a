//! Table definitions, shared by the SQLite and MySQL migration sets.

diesel::table! {
    users (id) {
        id -> BigInt,
        public_id -> Text,
        username -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        is_active -> Bool,
        email_verified -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        username_canonical -> Nullable<Text>,
        identifiers_version -> Integer,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        generation -> Integer,
        refresh_fingerprint -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        amr -> Text,
        auth_time -> Nullable<Timestamp>,
        issued_to -> Nullable<Text>,
    }
}

diesel::table! {
    revoked_tokens (revocation_key) {
        revocation_key -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    cache_changes (id) {
        id -> BigInt,
        topic -> Text,
        subject -> Text,
        changed_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, sessions);

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    verification_codes (purpose, recipient) {
        purpose -> Text,
        recipient -> Text,
        fingerprint -> Text,
        digits -> Integer,
        expires_at -> Timestamp,
        attempts -> Integer,
        max_attempts -> Integer,
        binding -> Nullable<Text>,
    }
}

diesel::table! {
    roles (name) {
        name -> Text,
        description -> Text,
        rank -> Integer,
    }
}

diesel::table! {
    role_permissions (role_name, permission) {
        role_name -> Text,
        permission -> Text,
    }
}

diesel::table! {
    user_roles (user_id, role_name) {
        user_id -> BigInt,
        role_name -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        kind -> Text,
        actor_id -> Nullable<BigInt>,
        subject_id -> Nullable<BigInt>,
        identifier -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    totp_factors (user_id) {
        user_id -> BigInt,
        sealed_secret -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_used_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Text,
        user_id -> BigInt,
        credential_id -> Text,
        name -> Text,
        credential -> Text,
        backup_eligible -> Bool,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    recovery_codes (user_id, fingerprint) {
        user_id -> BigInt,
        fingerprint -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        secret_fingerprint -> Nullable<Text>,
        jwks -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        scopes -> Text,
        grant_types -> Text,
        first_party -> Bool,
        disabled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_consents (user_id, client_id) {
        user_id -> BigInt,
        client_id -> Text,
        scopes -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    oauth_grants (session_id) {
        session_id -> Text,
        client_id -> Text,
        user_id -> BigInt,
        scopes -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    upstream_providers (id) {
        id -> Text,
        settings -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    upstream_identities (provider, subject) {
        provider -> Text,
        subject -> Text,
        user_id -> BigInt,
        email -> Nullable<Text>,
        linked_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        url -> Text,
        event_types -> Text,
        description -> Text,
        enabled -> Bool,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> BigInt,
        event_type -> Text,
        user_id -> BigInt,
        detail -> Nullable<Text>,
        occurred_at -> Timestamp,
        dispatched -> Bool,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        endpoint_id -> BigInt,
        event_id -> BigInt,
        user_id -> BigInt,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempted_at -> Timestamp,
        status -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::allow_tables_to_appear_in_same_query!(
    webhook_deliveries,
    webhook_endpoints,
    webhook_events
);

diesel::table! {
    account_deletions (user_id) {
        user_id -> BigInt,
        requested_at -> Timestamp,
        due_at -> Timestamp,
    }
}
