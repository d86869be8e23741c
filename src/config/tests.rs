//! Configuration loading and validation.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_are_the_embedded_development_setup() {
    let c = Config::load_from(None, env(&[])).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(
        c.public_url_for(c.listen).as_str(),
        "http://127.0.0.1:8080/"
    );
    assert_eq!(
        c.database,
        DatabaseUrl::Sqlite(PathBuf::from("./twofold-data/twofold.db"))
    );
    assert_eq!(c.store, StoreUrl::InProcess);
    assert!(matches!(c.master_key, MasterKeySource::Generated(_)));
}

#[test]
fn environment_overrides_and_unrelated_prefixed_vars_are_ignored() {
    let c = Config::load_from(
        None,
        env(&[
            ("TWOFOLD_LISTEN", "0.0.0.0:9000"),
            ("TWOFOLD_DATABASE_URL", "postgres://u@h/db"),
            ("TWOFOLD_TEST_DATABASE_URL", "whatever"),
            ("TWOFOLD_CONFIG", "/nowhere"),
            ("PATH", "/bin"),
        ]),
    )
    .unwrap();
    assert_eq!(c.listen.port(), 9000);
    assert_eq!(
        c.database,
        DatabaseUrl::Postgres("postgres://u@h/db".into())
    );
}

#[test]
fn unknown_database_scheme_is_refused_by_name() {
    let err = Config::load_from(None, env(&[("TWOFOLD_DATABASE_URL", "mysql://x")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("TWOFOLD_DATABASE_URL") && err.contains("mysql"),
        "{err}"
    );
}

#[test]
fn unknown_redis_scheme_is_refused() {
    let err = Config::load_from(None, env(&[("TWOFOLD_REDIS_URL", "memcached://x")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("TWOFOLD_REDIS_URL"), "{err}");
}

/// `#insecure` turns off the check of the server's certificate: refused when the configuration
/// is loaded, with the reason, not at the first connection.
#[test]
fn an_insecure_rediss_url_is_refused_at_load_with_the_reason() {
    for (key, value) in [
        ("TWOFOLD_REDIS_URL", "rediss://:hunter2@r:6380/#insecure"),
        (
            "TWOFOLD_REDIS_CLUSTER",
            "rediss://a:7000,rediss://:hunter2@b:7000#insecure",
        ),
    ] {
        let err = Config::load_from(None, env(&[(key, value)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{err}");
        assert!(
            err.contains("#insecure") && err.contains("certificate"),
            "the reason: {err}"
        );
        assert!(!err.contains("hunter2"), "the URL is not repeated: {err}");
    }
    // Any other fragment is refused by the Redis client too: at load as well.
    let err = Config::load_from(None, env(&[("TWOFOLD_REDIS_URL", "rediss://r/#tls")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("TWOFOLD_REDIS_URL"), "{err}");
}

#[test]
fn unknown_env_key_is_refused_by_name() {
    let err = Config::load_from(None, env(&[("TWOFOLD_LISTN", "1.2.3.4:1")]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "unknown variable TWOFOLD_LISTN (did you mean TWOFOLD_LISTEN?)"
    );
}

#[test]
fn unknown_file_key_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twofold.toml");
    std::fs::write(&path, "listen = \"127.0.0.1:1\"\nfrobnicate = true\n").unwrap();
    let err = Config::load_from(Some(&path), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`frobnicate` in "), "{err}");
}

#[test]
fn file_then_env_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twofold.toml");
    std::fs::write(&path, "listen = \"127.0.0.1:1111\"\nlog = \"debug\"\n").unwrap();
    let c = Config::load_from(Some(&path), env(&[("TWOFOLD_LOG", "warn")])).unwrap();
    assert_eq!(c.listen.port(), 1111);
    assert_eq!(c.log, "warn");
}

#[test]
fn production_needs_redis_and_a_public_url() {
    let base = [
        ("TWOFOLD_ENV", "production"),
        (
            "TWOFOLD_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ),
    ];
    let err = Config::load_from(None, env(&base)).unwrap_err().to_string();
    assert!(err.contains("TWOFOLD_PUBLIC_URL"), "{err}");
    let with_url = [&base[..], &[("TWOFOLD_PUBLIC_URL", "https://mfa.example")]].concat();
    let err = Config::load_from(None, env(&with_url))
        .unwrap_err()
        .to_string();
    assert!(err.contains("TWOFOLD_REDIS_URL"), "{err}");
    let with_redis = [&with_url[..], &[("TWOFOLD_REDIS_URL", "redis://r:6379")]].concat();
    let err = Config::load_from(None, env(&with_redis))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("TWOFOLD_SMS_GATEWAY"),
        "the log gateway is for development: {err}"
    );
    let full = [
        &with_redis[..],
        &[
            ("TWOFOLD_SMS_GATEWAY", "webhook"),
            ("TWOFOLD_SMS_WEBHOOK_URL", "https://sms.example/send"),
            (
                "TWOFOLD_SMS_WEBHOOK_BODY",
                r#"{"to":"{to}","text":"{message}"}"#,
            ),
        ],
    ]
    .concat();
    assert!(Config::load_from(None, env(&full)).is_ok());
}

#[test]
fn sms_settings_are_checked_and_name_their_key() {
    for (pairs, key) in [
        (
            vec![("TWOFOLD_SMS_GATEWAY", "carrier-pigeon")],
            "sms_gateway",
        ),
        (vec![("TWOFOLD_SMS_GATEWAY", "webhook")], "sms_webhook_url"),
        (
            vec![
                ("TWOFOLD_SMS_GATEWAY", "webhook"),
                ("TWOFOLD_SMS_WEBHOOK_URL", "ftp://x"),
                ("TWOFOLD_SMS_WEBHOOK_BODY", "to={to}&m={message}"),
            ],
            "sms_webhook_url",
        ),
        (
            vec![("TWOFOLD_SMS_GATEWAY", "twilio")],
            "twilio_account_sid",
        ),
        (vec![("TWOFOLD_SMS_COUNTRIES", "FR,XX")], "sms_countries"),
        (
            vec![("TWOFOLD_SMS_TEMPLATE", "no code here")],
            "sms_template",
        ),
        (
            vec![("TWOFOLD_SMS_TENANT_DAILY_BUDGET", "0")],
            "sms_tenant_daily_budget",
        ),
        (vec![("TWOFOLD_SMS_DAILY_BUDGET", "0")], "sms_daily_budget"),
    ] {
        let err = Config::load_from(None, env(&pairs))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&env_name(key)), "{pairs:?}: {err}");
    }
}

#[test]
fn a_bad_log_filter_is_refused() {
    let err = Config::load_from(None, env(&[("TWOFOLD_LOG", "info,=x=y")]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("TWOFOLD_LOG:"), "{err}");
}

#[test]
fn production_refuses_a_generated_master_key() {
    let production = env(&[
        ("TWOFOLD_ENV", "production"),
        ("TWOFOLD_PUBLIC_URL", "https://mfa.example"),
        ("TWOFOLD_REDIS_URL", "redis://r:6379"),
    ]);
    let err = Config::load_from(None, production).unwrap_err().to_string();
    assert!(err.contains("TWOFOLD_MASTER_KEY"), "{err}");
}

#[test]
fn text_keys_take_values_that_look_like_other_types() {
    let c = Config::load_from(
        None,
        env(&[
            ("TWOFOLD_REDIS_PREFIX", "true"),
            ("TWOFOLD_TOTP_ISSUER", "2024"),
        ]),
    )
    .unwrap();
    assert_eq!(c.redis_prefix, "true");
    assert_eq!(c.totp.issuer, "2024");
}

#[test]
fn bad_values_name_their_key() {
    let err = Config::load_from(None, env(&[("TWOFOLD_DATABASE_POOL_SIZE", "lots")]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "TWOFOLD_DATABASE_POOL_SIZE: expects a whole number, not `lots`"
    );
}

#[test]
fn a_redis_cluster_is_a_list_of_nodes_and_excludes_redis_url() {
    let nodes = "redis://10.0.0.1:7000, redis://10.0.0.2:7000,";
    let c = Config::load_from(None, env(&[("TWOFOLD_REDIS_CLUSTER", nodes)])).unwrap();
    assert_eq!(
        c.store,
        StoreUrl::RedisCluster(vec![
            "redis://10.0.0.1:7000".into(),
            "redis://10.0.0.2:7000".into()
        ])
    );
    let both = env(&[
        ("TWOFOLD_REDIS_CLUSTER", nodes),
        ("TWOFOLD_REDIS_URL", "redis://x"),
    ]);
    let err = Config::load_from(None, both).unwrap_err().to_string();
    assert!(err.contains("TWOFOLD_REDIS_CLUSTER"), "{err}");
    let bad = env(&[("TWOFOLD_REDIS_CLUSTER", "redis://a:1,http://b:2")]);
    let err = Config::load_from(None, bad).unwrap_err().to_string();
    assert!(
        err.contains("TWOFOLD_REDIS_CLUSTER") && err.contains("http"),
        "{err}"
    );
    // A brace in the prefix would start a hash tag of its own.
    let brace = env(&[("TWOFOLD_REDIS_PREFIX", "tf{x}:")]);
    let err = Config::load_from(None, brace).unwrap_err().to_string();
    assert!(err.contains("TWOFOLD_REDIS_PREFIX"), "{err}");
}

#[test]
fn key_failure_limit_has_a_default_and_must_be_positive() {
    let c = Config::load_from(None, env(&[])).unwrap();
    assert_eq!(c.lockout.key_limit, 5000);
    let c = Config::load_from(None, env(&[("TWOFOLD_KEY_FAILURE_LIMIT", "7")])).unwrap();
    assert_eq!(c.lockout.key_limit, 7);
    let err = Config::load_from(None, env(&[("TWOFOLD_KEY_FAILURE_LIMIT", "0")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("TWOFOLD_KEY_FAILURE_LIMIT"), "{err}");
}

#[test]
fn the_shutdown_grace_has_a_default_and_a_range() {
    let c = Config::load_from(None, env(&[])).unwrap();
    assert_eq!(c.shutdown_grace, Duration::from_secs(30));
    let c = Config::load_from(None, env(&[("TWOFOLD_SHUTDOWN_GRACE_SECS", "5")])).unwrap();
    assert_eq!(c.shutdown_grace, Duration::from_secs(5));
    for bad in ["1", "601"] {
        let err = Config::load_from(None, env(&[("TWOFOLD_SHUTDOWN_GRACE_SECS", bad)]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "TWOFOLD_SHUTDOWN_GRACE_SECS: expects a number from 2 to 600"
        );
    }
}

#[test]
fn production_refuses_an_http_public_url_off_loopback_unless_allowed() {
    let production = |url: &str, extra: &[(&str, &str)]| {
        let base = [
            ("TWOFOLD_ENV", "production"),
            (
                "TWOFOLD_MASTER_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
            ("TWOFOLD_REDIS_URL", "redis://r:6379"),
            ("TWOFOLD_SMS_GATEWAY", "webhook"),
            ("TWOFOLD_SMS_WEBHOOK_URL", "https://sms.example/send"),
            ("TWOFOLD_SMS_WEBHOOK_BODY", r#"{"to":"{to}"}"#),
            ("TWOFOLD_PUBLIC_URL", url),
        ];
        Config::load_from(None, env(&[&base[..], extra].concat()))
    };
    for url in [
        "http://mfa.example",
        "http://10.0.0.5:8080",
        "http://[2001:db8::1]/",
    ] {
        let err = production(url, &[]).unwrap_err().to_string();
        assert!(
            err.contains("TWOFOLD_PUBLIC_URL") && err.contains("https"),
            "{url}: {err}"
        );
        let allowed = [("TWOFOLD_ALLOW_INSECURE_PUBLIC_URL", "true")];
        assert!(production(url, &allowed).is_ok(), "{url} with the override");
    }
    for url in [
        "https://mfa.example",
        "http://localhost:8080",
        "http://LOCALHOST",
        "http://127.0.0.1:8080",
        "http://127.1.2.3",
        "http://[::1]:8080",
    ] {
        assert!(production(url, &[]).is_ok(), "{url}");
    }
    // Development takes any http:// URL, as before.
    let dev = Config::load_from(None, env(&[("TWOFOLD_PUBLIC_URL", "http://mfa.example")]));
    assert!(dev.is_ok());
}

#[test]
fn each_tenant_has_a_daily_sms_budget_below_the_global_one() {
    let c = Config::load_from(None, env(&[])).unwrap();
    assert_eq!(
        (c.sms.limits.tenant_daily_budget, c.sms.limits.daily_budget),
        (1_000, 10_000)
    );
    let c = Config::load_from(None, env(&[("TWOFOLD_SMS_TENANT_DAILY_BUDGET", "50")])).unwrap();
    assert_eq!(c.sms.limits.tenant_daily_budget, 50);
}
