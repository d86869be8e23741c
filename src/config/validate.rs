//! From the raw layers to a [`Config`]: every key checked once, at start, and every problem
//! collected (not the first one only), each naming its key. A new setting adds its check here
//! with `problems.refuse(key, what it expects)` or a `check_*` function returning a [`Problem`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::problems::{Problem, Problems};
use super::redis_url;
use super::*;

impl RawConfig {
    pub fn validate(self) -> Result<Config, ConfigError> {
        let mut problems = Problems::default();
        let production = self.env == Environment::Production;
        let listen = problems.take(self.listen.parse::<SocketAddr>().map_err(|_| {
            Problem::refused(
                "listen",
                format!(
                    "expects an address like 127.0.0.1:8080, not `{}`",
                    self.listen
                ),
            )
        }));
        let public_url = match &self.public_url {
            Some(u) => problems
                .take(check_public_url(
                    u,
                    production,
                    self.allow_insecure_public_url,
                ))
                .map(Some),
            None if production => {
                problems.refuse(
                    "public_url",
                    "production needs it: it is the assertion issuer (`iss`) and the base of \
                     links, e.g. https://mfa.example.com",
                );
                None
            }
            None => Some(None),
        };
        let database = match &self.database_url {
            None => Some(DatabaseUrl::Sqlite(self.data_dir.join("twofold.db"))),
            Some(u) => problems.take(parse_database_url(u)),
        };
        if self.database_pool_size == 0 || self.database_pool_size > 512 {
            problems.refuse("database_pool_size", "expects a number from 1 to 512");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            problems.refuse(
                "log",
                format!(
                    "expects a log filter (e.g. info,twofold=debug), not `{}`",
                    self.log
                ),
            );
        }
        let store = problems.take(self.store(production));
        // Braces would start a hash tag of their own and scatter a subject's keys over slots.
        if self.redis_prefix.is_empty()
            || self.redis_prefix.len() > 64
            || self.redis_prefix.contains(['{', '}'])
        {
            problems.refuse("redis_prefix", "expects 1 to 64 characters, without braces");
        }
        let master_key = match (&self.master_key, &self.master_key_file) {
            (Some(_), Some(_)) => {
                problems.refuse(
                    "master_key",
                    "TWOFOLD_MASTER_KEY_FILE is set too: set one of them",
                );
                None
            }
            (Some(v), None) => Some(MasterKeySource::Value(v.clone())),
            (None, Some(p)) => Some(MasterKeySource::File(p.clone())),
            (None, None) if production => {
                problems.refuse(
                    "master_key",
                    "production needs TWOFOLD_MASTER_KEY or TWOFOLD_MASTER_KEY_FILE; a generated \
                     key is for development only",
                );
                None
            }
            (None, None) => Some(MasterKeySource::Generated(self.data_dir.join("master.key"))),
        };
        let issuer = problems.take(super::totp::issuer("totp_issuer", &self.totp_issuer));
        let issuers = problems.take(self.totp_issuers());
        let languages = problems.take(self.tenant_languages());
        self.check_ranges(&mut problems);
        let public_host = public_url
            .as_ref()
            .and_then(|u| u.as_ref())
            .and_then(|u| u.host_str().map(str::to_string));
        let webauthn = self.webauthn(public_host.as_deref(), &mut problems);
        let sms = match self.sms_config() {
            Ok(sms) => Some(sms),
            Err(e) => {
                problems.extend(e);
                None
            }
        };
        let master_key_previous: Vec<String> = self
            .master_key_previous
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        let parts = (|| {
            Some((
                listen?,
                public_url?,
                database?,
                store?,
                master_key?,
                sms?,
                issuer?,
                issuers?,
                languages?,
            ))
        })();
        let (listen, public_url, database, store, master_key, sms, issuer, issuers, languages) =
            problems.finish(parts)?;
        Ok(Config {
            env: self.env,
            listen,
            public_url,
            trust_forwarded_for: self.trust_forwarded_for,
            data_dir: self.data_dir,
            database,
            database_pool_size: self.database_pool_size,
            store,
            redis_prefix: self.redis_prefix,
            master_key,
            master_key_previous: PreviousKeys(master_key_previous),
            dependency_timeout: Duration::from_millis(self.dependency_timeout_ms),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            tenant_languages: languages,
            totp: TotpPolicy {
                issuer,
                issuers,
                window: self.totp_window,
                hotp_window: self.hotp_window,
                hotp_resync_window: self.hotp_resync_window,
            },
            lockout: LockoutPolicy {
                threshold: self.lockout_threshold,
                base: Duration::from_secs(u64::from(self.lockout_minutes) * 60),
                ip_limit: self.ip_failure_limit,
                ip_window: Duration::from_secs(u64::from(self.ip_failure_window_secs)),
                key_limit: self.key_failure_limit,
            },
            assertion_ttl: Duration::from_secs(u64::from(self.assertion_ttl_secs)),
            admin_session: Duration::from_secs(u64::from(self.admin_session_minutes) * 60),
            log: self.log,
            log_format: self.log_format,
            sms,
            webauthn,
        })
    }

    /// The numeric settings that only have to lie in a range.
    fn check_ranges(&self, problems: &mut Problems) {
        let ranges: [(&str, u64, u64, u64, &str); 12] = [
            ("totp_window", self.totp_window.into(), 0, 2, " steps"),
            (
                "hotp_window",
                self.hotp_window.into(),
                1,
                crate::factor::hotp::MAX_WINDOW.into(),
                " counters",
            ),
            (
                "hotp_resync_window",
                self.hotp_resync_window.into(),
                10,
                crate::factor::hotp::MAX_RESYNC_WINDOW.into(),
                " counters",
            ),
            (
                "lockout_threshold",
                self.lockout_threshold.into(),
                3,
                100,
                "",
            ),
            ("lockout_minutes", self.lockout_minutes.into(), 1, 1440, ""),
            (
                "ip_failure_limit",
                self.ip_failure_limit.into(),
                1,
                u64::MAX,
                "",
            ),
            (
                "key_failure_limit",
                self.key_failure_limit.into(),
                1,
                u64::MAX,
                "",
            ),
            (
                "ip_failure_window_secs",
                self.ip_failure_window_secs.into(),
                1,
                u64::MAX,
                "",
            ),
            (
                "assertion_ttl_secs",
                self.assertion_ttl_secs.into(),
                30,
                300,
                " (assertions live at most 5 minutes)",
            ),
            (
                "admin_session_minutes",
                self.admin_session_minutes.into(),
                5,
                720,
                " (12 hours)",
            ),
            (
                "dependency_timeout_ms",
                self.dependency_timeout_ms,
                100,
                60_000,
                "",
            ),
            ("shutdown_grace_secs", self.shutdown_grace_secs, 2, 600, ""),
        ];
        for (key, value, low, high, note) in ranges {
            if value < low || value > high {
                let message = if high == u64::MAX {
                    "expects a positive number".to_string()
                } else {
                    format!("expects a number from {low} to {high}{note}")
                };
                problems.refuse(key, message);
            }
        }
    }

    /// Where ephemeral state lives: one Redis, a cluster, or (development only) this process.
    fn store(&self, production: bool) -> Result<StoreUrl, Problem> {
        match (&self.redis_url, &self.redis_cluster) {
            (Some(_), Some(_)) => Err(Problem::refused(
                "redis_cluster",
                "TWOFOLD_REDIS_URL is set too: set TWOFOLD_REDIS_URL (one Redis) or \
                 TWOFOLD_REDIS_CLUSTER (a cluster), not both",
            )),
            (None, Some(list)) => {
                let nodes: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect();
                if nodes.is_empty() {
                    return Err(Problem::refused(
                        "redis_cluster",
                        "expects a comma-separated list of node URLs",
                    ));
                }
                for n in &nodes {
                    redis_url::check("redis_cluster", n)?;
                    // A cluster has one database: a `/1` would be refused at every connect.
                    let path = n.split_once("://").map_or("", |(_, rest)| rest);
                    if path.split_once('/').is_some_and(|(_, db)| !db.is_empty()) {
                        // The URL is not repeated: it may hold a password.
                        return Err(Problem::refused(
                            "redis_cluster",
                            "a cluster node URL names no database (no `/N` after the host)",
                        ));
                    }
                }
                Ok(StoreUrl::RedisCluster(nodes))
            }
            // Counters, locks and single-use markers must be shared by every node.
            (None, None) if production => Err(Problem::refused(
                "redis_url",
                "production needs Redis (TWOFOLD_REDIS_URL or TWOFOLD_REDIS_CLUSTER): the \
                 in-process store is per node, so locks and single use would not hold across nodes",
            )),
            (None, None) => Ok(StoreUrl::InProcess),
            (Some(u), None) => {
                redis_url::check("redis_url", u)?;
                Ok(StoreUrl::Redis(u.clone()))
            }
        }
    }
}

/// The public URL, normalised once: http or https, nothing but scheme, host and port, the host
/// lowercased (the URL parser does that for http and https). No path: the hosted pages' form
/// actions, cookies and stylesheet live at the root, so a prefix would break them.
fn check_public_url(text: &str, production: bool, allow_insecure: bool) -> Result<Url, Problem> {
    let refuse = |message: String| Problem::refused("public_url", message);
    let mut url = Url::parse(text.trim()).map_err(|_| {
        // Not repeated: it may hold a password.
        refuse("expects an http:// or https:// URL like https://mfa.example.com".into())
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse(format!(
            "expects an http:// or https:// URL, not `{}://`",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("must not carry a user name or password".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse(
            "must not carry a query (`?…`) or a fragment (`#…`): links are built under it".into(),
        ));
    }
    if production && url.scheme() == "http" && !is_loopback(&url) && !allow_insecure {
        return Err(refuse(
            "production needs https:// (over http:// the console cookie loses `Secure` and \
             links and codes cross the network in clear); http:// is accepted on a loopback \
             host, or with TWOFOLD_ALLOW_INSECURE_PUBLIC_URL=true behind a proxy you run"
                .into(),
        ));
    }
    if !url.path().trim_start_matches('/').is_empty() {
        return Err(refuse(format!(
            "must be the root of its host, without a path (`{}`): the hosted pages and the \
             console are served at /",
            url.path()
        )));
    }
    url.set_path("/");
    Ok(url)
}

/// Whether the URL's host is this machine: 127.0.0.0/8, ::1 or `localhost`.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn parse_database_url(url: &str) -> Result<DatabaseUrl, Problem> {
    let refuse = |message: String| Problem::refused("database_url", message);
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(refuse("expects sqlite://PATH or postgres://…".into()));
    };
    match scheme {
        "sqlite" if !rest.is_empty() => Ok(DatabaseUrl::Sqlite(PathBuf::from(rest))),
        "sqlite" => Err(refuse("sqlite:// needs a file path".into())),
        "postgres" | "postgresql" => Ok(DatabaseUrl::Postgres(url.to_string())),
        other => Err(refuse(format!(
            "expects sqlite://PATH or postgres://…, not `{other}://`"
        ))),
    }
}
