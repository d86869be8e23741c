//! How long libpq may wait on the network. Left alone, it waits as long as the OS lets it: for a
//! connection, and on a peer that went silent without closing (a partition, a dead middlebox),
//! until TCP gives up retransmitting, about 15 minutes on Linux. The pool bounds each caller's
//! wait itself (see `pool`); these bound the wait of the database thread left behind, and find a
//! dead idle connection before a caller does.

use std::time::Duration;

/// Idle seconds before the first keepalive probe, seconds between probes, probes unanswered
/// before the connection is dropped.
const KEEPALIVES_IDLE: u32 = 10;
const KEEPALIVES_INTERVAL: u32 = 5;
const KEEPALIVES_COUNT: u32 = 3;
/// How long sent data may stay unacknowledged before the connection is closed.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(10);

/// `url` with the connect timeout (the call deadline, in libpq's whole seconds) and the TCP
/// keepalive and user timeout settings added; a setting the URL gives itself is kept.
pub(super) fn with_socket_settings(url: &str, deadline: Duration) -> String {
    // libpq treats 1 s as 2.
    let connect = deadline.as_secs().max(2).to_string();
    let settings = [
        ("connect_timeout", connect),
        ("keepalives", "1".into()),
        ("keepalives_idle", KEEPALIVES_IDLE.to_string()),
        ("keepalives_interval", KEEPALIVES_INTERVAL.to_string()),
        ("keepalives_count", KEEPALIVES_COUNT.to_string()),
        ("tcp_user_timeout", TCP_USER_TIMEOUT.as_millis().to_string()),
    ];
    let given: Vec<&str> = url
        .split_once('?')
        .map(|(_, query)| query.split('&').map(|p| p.split('=').next().unwrap_or("")))
        .into_iter()
        .flatten()
        .collect();
    let mut out = url.to_string();
    for (key, value) in settings {
        if given.contains(&key) {
            continue;
        }
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(key);
        out.push('=');
        out.push_str(&value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wait_on_the_network_is_bounded() {
        assert_eq!(
            with_socket_settings("postgres://u@h/db", Duration::from_millis(500)),
            "postgres://u@h/db?connect_timeout=2&keepalives=1&keepalives_idle=10\
             &keepalives_interval=5&keepalives_count=3&tcp_user_timeout=10000"
        );
        assert_eq!(
            with_socket_settings("postgres://u@h/db?sslmode=require", Duration::from_secs(5)),
            "postgres://u@h/db?sslmode=require&connect_timeout=5&keepalives=1&keepalives_idle=10\
             &keepalives_interval=5&keepalives_count=3&tcp_user_timeout=10000"
        );
    }

    #[test]
    fn a_setting_of_the_url_is_kept() {
        let url = "postgres://u@h/db?keepalives_idle=60&connect_timeout=9&tcp_user_timeout=0";
        assert_eq!(
            with_socket_settings(url, Duration::from_secs(2)),
            format!("{url}&keepalives=1&keepalives_interval=5&keepalives_count=3")
        );
    }
}
