//! A Redis URL (`TWOFOLD_REDIS_URL`, each node of `TWOFOLD_REDIS_CLUSTER`), checked when the
//! configuration is loaded rather than at the first connection, which would only turn every
//! request into a 503. A refusal never repeats the URL: it may hold a password.

use url::Url;

use super::problems::Problem;

pub(super) fn check(key: &str, text: &str) -> Result<(), Problem> {
    let refuse = |message: String| Problem::refused(key, message);
    let scheme = text.split_once("://").map(|(s, _)| s).unwrap_or("");
    if !matches!(scheme, "redis" | "rediss") {
        return Err(refuse(format!(
            "expects a redis:// or rediss:// URL, not `{scheme}`"
        )));
    }
    // Anything the URL parser refuses, the Redis client refuses too, with its own words.
    let Ok(url) = Url::parse(text) else {
        return Ok(());
    };
    match url.fragment() {
        None => Ok(()),
        Some("insecure") => Err(refuse(
            "`#insecure` turns off the check of the Redis server's certificate, so anyone on \
             the path could read and change the locks, counters and single-use markers: it is \
             not supported. Give the server a certificate this node trusts (a private CA through \
             SSL_CERT_FILE=/path/ca.pem)"
                .into(),
        )),
        Some(_) => Err(refuse("a Redis URL takes no fragment (`#…`)".into())),
    }
}
