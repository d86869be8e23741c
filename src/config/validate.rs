//! From the raw layers to a [`Config`]: every key checked once, at start, each error naming its
//! key.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::*;

impl RawConfig {
    pub fn validate(self) -> Result<Config, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            invalid(
                "listen",
                format!("`{}` is not an address like 127.0.0.1:8080", self.listen),
            )
        })?;
        let public_url = match &self.public_url {
            Some(u) => Some({
                let url = Url::parse(u).map_err(|e| invalid("public_url", e.to_string()))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(invalid(
                        "public_url",
                        format!("unknown scheme `{}` (http or https)", url.scheme()),
                    ));
                }
                if self.env == Environment::Production
                    && url.scheme() == "http"
                    && !is_loopback(&url)
                    && !self.allow_insecure_public_url
                {
                    return Err(invalid(
                        "public_url",
                        "production needs https:// (over http:// the console cookie loses \
                         `Secure` and links and codes cross the network in clear); http:// is \
                         accepted on a loopback host, or with allow_insecure_public_url = true \
                         behind a proxy you run",
                    ));
                }
                url
            }),
            None => None,
        };
        let database = match &self.database_url {
            None => DatabaseUrl::Sqlite(self.data_dir.join("twofold.db")),
            Some(u) => parse_database_url(u)?,
        };
        if self.database_pool_size == 0 || self.database_pool_size > 512 {
            return Err(invalid("database_pool_size", "must be between 1 and 512"));
        }
        if self.env == Environment::Production && self.public_url.is_none() {
            return Err(invalid(
                "public_url",
                "production needs TWOFOLD_PUBLIC_URL: it is the assertion issuer and the base of links",
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return Err(invalid(
                "log",
                format!(
                    "`{}` is not a log filter (e.g. info,twofold=debug)",
                    self.log
                ),
            ));
        }
        let redis_scheme = |key: &'static str, u: &str| {
            let scheme = u.split_once("://").map(|(s, _)| s).unwrap_or("");
            if matches!(scheme, "redis" | "rediss") {
                Ok(())
            } else {
                Err(invalid(
                    key,
                    format!("unknown scheme `{scheme}` (redis:// or rediss://)"),
                ))
            }
        };
        let store = match (&self.redis_url, &self.redis_cluster) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "redis_cluster",
                    "set redis_url (one Redis) or redis_cluster (a cluster), not both",
                ));
            }
            (None, Some(list)) => {
                let nodes: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect();
                if nodes.is_empty() {
                    return Err(invalid("redis_cluster", "names no node"));
                }
                for n in &nodes {
                    redis_scheme("redis_cluster", n)?;
                    // A cluster has one database: a `/1` would be refused at every connect.
                    let path = n.split_once("://").map_or("", |(_, rest)| rest);
                    if path.split_once('/').is_some_and(|(_, db)| !db.is_empty()) {
                        return Err(invalid(
                            "redis_cluster",
                            format!("`{n}`: a cluster node URL names no database"),
                        ));
                    }
                }
                StoreUrl::RedisCluster(nodes)
            }
            (url, None) => match url {
                // Counters, locks and single-use markers must be shared by every node.
                None if self.env == Environment::Production => {
                    return Err(invalid(
                        "redis_url",
                        "production needs Redis (redis_url or redis_cluster): the in-process store \
                     is per node, so locks and single use would not hold across nodes",
                    ));
                }
                None => StoreUrl::InProcess,
                Some(u) => {
                    redis_scheme("redis_url", u)?;
                    StoreUrl::Redis(u.clone())
                }
            },
        };
        // Braces would start a hash tag of their own and scatter a subject's keys over slots.
        if self.redis_prefix.is_empty()
            || self.redis_prefix.len() > 64
            || self.redis_prefix.contains(['{', '}'])
        {
            return Err(invalid(
                "redis_prefix",
                "must be 1 to 64 characters, without braces",
            ));
        }
        let master_key = match (&self.master_key, &self.master_key_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "master_key",
                    "set either master_key or master_key_file, not both",
                ));
            }
            (Some(v), None) => MasterKeySource::Value(v.clone()),
            (None, Some(p)) => MasterKeySource::File(p.clone()),
            (None, None) if self.env == Environment::Production => {
                return Err(invalid(
                    "master_key",
                    "production needs TWOFOLD_MASTER_KEY or TWOFOLD_MASTER_KEY_FILE; \
                     a generated key is for development only",
                ));
            }
            (None, None) => MasterKeySource::Generated(self.data_dir.join("master.key")),
        };
        let issuer = self.totp_issuer.trim();
        if issuer.is_empty() || issuer.len() > 64 || issuer.contains(':') {
            return Err(invalid(
                "totp_issuer",
                "must be 1 to 64 characters without ':'",
            ));
        }
        let issuers = self.totp_issuers()?;
        if self.totp_window > 2 {
            return Err(invalid("totp_window", "must be 0, 1 or 2 steps"));
        }
        if !(3..=100).contains(&self.lockout_threshold) {
            return Err(invalid("lockout_threshold", "must be between 3 and 100"));
        }
        if !(1..=1440).contains(&self.lockout_minutes) {
            return Err(invalid("lockout_minutes", "must be between 1 and 1440"));
        }
        if self.ip_failure_limit == 0 {
            return Err(invalid("ip_failure_limit", "must be positive"));
        }
        if self.key_failure_limit == 0 {
            return Err(invalid("key_failure_limit", "must be positive"));
        }
        if self.ip_failure_window_secs == 0 {
            return Err(invalid("ip_failure_window_secs", "must be positive"));
        }
        if !(30..=300).contains(&self.assertion_ttl_secs) {
            return Err(invalid(
                "assertion_ttl_secs",
                "must be between 30 and 300 (assertions live at most 5 minutes)",
            ));
        }
        if !(5..=720).contains(&self.admin_session_minutes) {
            return Err(invalid(
                "admin_session_minutes",
                "must be between 5 and 720 (12 hours)",
            ));
        }
        let sms = self.sms_config()?;
        let master_key_previous: Vec<String> = self
            .master_key_previous
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        if !(100..=60_000).contains(&self.dependency_timeout_ms) {
            return Err(invalid(
                "dependency_timeout_ms",
                "must be between 100 and 60000",
            ));
        }
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
            totp: TotpPolicy {
                issuer: issuer.to_string(),
                issuers,
                window: self.totp_window,
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
        })
    }
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

fn parse_database_url(url: &str) -> Result<DatabaseUrl, ConfigError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(invalid(
            "database_url",
            "expected sqlite://PATH or postgres://…",
        ));
    };
    match scheme {
        "sqlite" if !rest.is_empty() => Ok(DatabaseUrl::Sqlite(PathBuf::from(rest))),
        "sqlite" => Err(invalid("database_url", "sqlite:// needs a file path")),
        "postgres" | "postgresql" => Ok(DatabaseUrl::Postgres(url.to_string())),
        other => Err(invalid(
            "database_url",
            format!("unknown scheme `{other}` (sqlite:// or postgres://)"),
        )),
    }
}
