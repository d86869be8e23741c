//! Every problem of a configuration at once, named as the operator wrote it; the public URL's
//! one form; the webhook's default body.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn problems(err: &ConfigError) -> Vec<String> {
    err.problems().iter().map(ToString::to_string).collect()
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = Config::load_from(
        None,
        env(&[
            ("TWOFOLD_ENV", "production"),
            ("TWOFOLD_LISTN", "0.0.0.0:80"),
            ("TWOFOLD_DATABASE_POOL_SIZE", "lots"),
            ("TWOFOLD_TOTP_WINDOW", "7"),
            ("TWOFOLD_SMS_COUNTRIES", "FR,XX"),
        ]),
    )
    .unwrap_err();
    let lines = problems(&err);
    let expected = [
        "unknown variable TWOFOLD_LISTN (did you mean TWOFOLD_LISTEN?)",
        "TWOFOLD_DATABASE_POOL_SIZE: expects a whole number, not `lots`",
        "TWOFOLD_PUBLIC_URL: production needs it",
        "TWOFOLD_REDIS_URL: production needs Redis",
        "TWOFOLD_MASTER_KEY: production needs TWOFOLD_MASTER_KEY or TWOFOLD_MASTER_KEY_FILE",
        "TWOFOLD_TOTP_WINDOW: expects a number from 0 to 2",
        "TWOFOLD_SMS_GATEWAY: `log` writes whole messages to disk",
        "TWOFOLD_SMS_COUNTRIES: ",
    ];
    for start in expected {
        assert!(
            lines.iter().any(|l| l.starts_with(start)),
            "{start:?} in {lines:#?}"
        );
    }
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    // The words of an operator, not of the library.
    let all = err.to_string();
    for internal in ["BTreeMap", "src/", ".rs:", "global.", "u32", "alloc::"] {
        assert!(!all.contains(internal), "{internal} in {all}");
    }
}

#[test]
fn file_keys_are_named_as_in_the_file_and_env_wins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twofold.toml");
    std::fs::write(
        &path,
        "publc_url = \"https://x\"\ntotp_window = 9\nlockout_threshold = 1\n",
    )
    .unwrap();
    let err =
        Config::load_from(Some(&path), env(&[("TWOFOLD_LOCKOUT_THRESHOLD", "2")])).unwrap_err();
    let file = path.display();
    assert_eq!(
        problems(&err),
        [
            format!("unknown key `publc_url` in {file} (did you mean `public_url`?)"),
            format!("`totp_window` in {file}: expects a number from 0 to 2 steps"),
            "TWOFOLD_LOCKOUT_THRESHOLD: expects a number from 3 to 100".to_string(),
        ]
    );
}

#[test]
fn a_key_that_starts_or_extends_a_known_one_gets_it_as_a_guess() {
    for (given, guess) in [
        ("TWOFOLD_LISTEN_PORT", "TWOFOLD_LISTEN"),
        ("TWOFOLD_PUBLIC", "TWOFOLD_PUBLIC_URL"),
        ("TWOFOLD_MASTER_KYE", "TWOFOLD_MASTER_KEY"),
    ] {
        let err = Config::load_from(None, env(&[(given, "x")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("unknown variable {given} (did you mean {guess}?)")
        );
    }
}

#[test]
fn an_unknown_key_far_from_any_gets_no_guess() {
    let err = Config::load_from(None, env(&[("TWOFOLD_FROBNICATE", "1")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown variable TWOFOLD_FROBNICATE (docs/configuration.md lists the settings)"
    );
}

#[test]
fn a_bad_enumeration_lists_its_values() {
    let err = Config::load_from(None, env(&[("TWOFOLD_ENV", "prod")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "TWOFOLD_ENV: expects one of development, production, not `prod`"
    );
}

fn public_url(url: &str) -> Result<Url, String> {
    Config::load_from(None, env(&[("TWOFOLD_PUBLIC_URL", url)]))
        .map(|c| c.public_url.unwrap())
        .map_err(|e| e.to_string())
}

#[test]
fn the_public_url_is_normalised_once() {
    for (given, base, shown) in [
        (
            "https://mfa.example",
            "https://mfa.example/",
            "https://mfa.example",
        ),
        (
            "https://mfa.example/",
            "https://mfa.example/",
            "https://mfa.example",
        ),
        (
            "HTTPS://MFA.Example:443/",
            "https://mfa.example/",
            "https://mfa.example",
        ),
        (
            "http://mfa.example:8080",
            "http://mfa.example:8080/",
            "http://mfa.example:8080",
        ),
        (
            "https://mfa.example//",
            "https://mfa.example/",
            "https://mfa.example",
        ),
    ] {
        let url = public_url(given).unwrap();
        assert_eq!(
            (url.as_str(), public_url_text(&url)),
            (base, shown),
            "{given}"
        );
        // Links join under the base, with one slash between.
        assert_eq!(
            url.join("verify/t").unwrap().as_str(),
            format!("{shown}/verify/t"),
            "{given}"
        );
    }
}

#[test]
fn a_public_url_with_more_than_a_base_is_refused() {
    for (given, says) in [
        (
            "ftp://mfa.example",
            "expects an http:// or https:// URL, not `ftp://`",
        ),
        ("mfa.example", "expects an http:// or https:// URL like"),
        (
            "https://user:pw@mfa.example",
            "must not carry a user name or password",
        ),
        ("https://mfa.example/?a=1", "must not carry a query"),
        (
            "https://example.com/mfa",
            "must be the root of its host, without a path (`/mfa`)",
        ),
        (
            "https://user:pw@/",
            "expects an http:// or https:// URL like",
        ),
        (
            "https://mfa.example/#top",
            "must not carry a query (`?…`) or a fragment",
        ),
    ] {
        let err = public_url(given).unwrap_err();
        assert!(err.starts_with("TWOFOLD_PUBLIC_URL: "), "{given}: {err}");
        assert!(err.contains(says), "{given}: {err}");
        assert!(!err.contains("pw"), "no password repeated: {err}");
    }
}

#[test]
fn the_webhook_body_is_optional() {
    let webhook = |extra: &[(&str, &str)]| {
        let base = [
            ("TWOFOLD_SMS_GATEWAY", "webhook"),
            ("TWOFOLD_SMS_WEBHOOK_URL", "https://sms.example/send"),
        ];
        let c = Config::load_from(None, env(&[&base[..], extra].concat())).unwrap();
        match c.sms.gateway {
            crate::sms::GatewayConfig::Webhook(w) => (w.method.to_string(), w.body),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        webhook(&[]),
        (
            "POST".into(),
            r#"{"to":"{to}","message":"{message}"}"#.into()
        )
    );
    assert_eq!(
        webhook(&[("TWOFOLD_SMS_WEBHOOK_METHOD", "get")]),
        ("GET".into(), "to={to}&message={message}".into())
    );
    assert_eq!(
        webhook(&[("TWOFOLD_SMS_WEBHOOK_BODY", "To={to}&Body={message}")]),
        ("POST".into(), "To={to}&Body={message}".into())
    );
}

#[test]
fn webhook_settings_are_all_checked_together() {
    let err = Config::load_from(
        None,
        env(&[
            ("TWOFOLD_SMS_GATEWAY", "webhook"),
            ("TWOFOLD_SMS_WEBHOOK_METHOD", "DELETE"),
            ("TWOFOLD_SMS_WEBHOOK_HEADERS", "Authorization: x"),
            ("TWOFOLD_SMS_WEBHOOK_SUCCESS", "ok"),
        ]),
    )
    .unwrap_err();
    let keys: Vec<_> = err.problems().iter().filter_map(|p| p.key()).collect();
    assert_eq!(
        keys,
        [
            "sms_webhook_url",
            "sms_webhook_method",
            "sms_webhook_headers",
            "sms_webhook_success"
        ]
    );
    assert!(!err.to_string().contains("Authorization: x"), "{err}");
}

#[test]
fn a_malformed_file_is_one_problem_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twofold.toml");
    std::fs::write(&path, "listen = \n").unwrap();
    let err = Config::load_from(Some(&path), env(&[])).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.problems().len(), 1);
    assert!(!text.contains('\n'), "{text}");
    assert!(
        text.starts_with(&format!(
            "the configuration file {} is not valid TOML: TOML parse error at line 1",
            path.display()
        )),
        "{text}"
    );
}

#[test]
fn paths_that_look_like_numbers_are_paths() {
    let c = Config::load_from(
        None,
        env(&[
            ("TWOFOLD_DATA_DIR", "2024"),
            ("TWOFOLD_MASTER_KEY_FILE", "7"),
        ]),
    )
    .unwrap();
    assert_eq!(c.data_dir, PathBuf::from("2024"));
    assert!(matches!(c.master_key, MasterKeySource::File(p) if p.as_os_str() == "7"));
}
