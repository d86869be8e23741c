//! Readiness on a Redis Cluster (REL-7): ready only while the store can serve every slot. Every
//! node answering PING is not enough: a slot no master serves, or a master gone before the
//! cluster noticed, fails the requests of a share of the users. A private three-master cluster,
//! started here from redis-server, so the test may break it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestApp, spawn_app_with};

const DEADLINE_MS: u64 = 500;
/// Long, so that a master's death is seen by the app well before the cluster marks it failed.
const NODE_TIMEOUT_MS: u64 = 15_000;

struct PrivateCluster {
    _dir: tempfile::TempDir,
    ports: Vec<u16>,
    nodes: Vec<Option<Child>>,
}

/// A free port whose cluster bus port (+10000) is free too.
fn free_cluster_port() -> u16 {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

impl PrivateCluster {
    fn start() -> PrivateCluster {
        let dir = tempfile::tempdir().unwrap();
        let (mut ports, mut nodes) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            let port = free_cluster_port();
            let here = dir.path().join(port.to_string());
            std::fs::create_dir(&here).unwrap();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args([
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                ])
                .args(["--cluster-node-timeout", &NODE_TIMEOUT_MS.to_string()])
                .args(["--save", "", "--appendonly", "no"])
                .current_dir(&here)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect(
                    "redis-server must be installed for this test (scripts/test.sh installs it)",
                );
            ports.push(port);
            nodes.push(Some(child));
        }
        let until = Instant::now() + Duration::from_secs(10);
        for port in &ports {
            while std::net::TcpStream::connect(("127.0.0.1", *port)).is_err() {
                assert!(Instant::now() < until, "a cluster node did not start");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(ports.iter().map(|p| format!("127.0.0.1:{p}")))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli must be installed for this test");
        assert!(out.status.success(), "cluster create: {out:?}");
        let cluster = PrivateCluster {
            _dir: dir,
            ports,
            nodes,
        };
        cluster.wait_state("ok");
        cluster
    }

    fn urls(&self) -> String {
        let urls: Vec<String> = self
            .ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect();
        urls.join(",")
    }

    fn cli(&self, node: usize, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.ports[node].to_string()])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn alive(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.ports.len()).filter(|&i| self.nodes[i].is_some())
    }

    fn state(&self, node: usize) -> String {
        let info = self.cli(node, &["cluster", "info"]);
        let state = info.lines().find_map(|l| l.strip_prefix("cluster_state:"));
        state.unwrap_or("").trim().to_string()
    }

    /// Until every live node says `cluster_state:<state>`.
    fn wait_state(&self, state: &str) {
        let until = Instant::now() + Duration::from_secs(10);
        while !self.alive().all(|i| self.state(i) == state) {
            assert!(Instant::now() < until, "cluster_state never became {state}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The node serving `slot`, from its own `CLUSTER NODES` line (`myself`).
    fn owner(&self, slot: u16) -> usize {
        let owns = |node: usize| {
            let nodes = self.cli(node, &["cluster", "nodes"]);
            let mine = nodes.lines().find(|l| l.contains("myself")).unwrap_or("");
            mine.split_whitespace().skip(8).any(|range| {
                let (low, high) = range.split_once('-').unwrap_or((range, range));
                let (low, high) = (low.parse().unwrap_or(1), high.parse().unwrap_or(0));
                (low..=high).contains(&slot)
            })
        };
        (0..self.ports.len()).find(|&n| owns(n)).unwrap()
    }

    fn kill(&mut self, node: usize) {
        if let Some(mut c) = self.nodes[node].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        for node in 0..self.nodes.len() {
            self.kill(node);
        }
    }
}

/// Polls `/readyz` for up to 5 s until it answers `status`; answers the last status seen.
async fn becomes(app: &TestApp, status: u16) -> u16 {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let started = Instant::now();
        let seen = app.get("/readyz", None).await.status().as_u16();
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(DEADLINE_MS + 1000),
            "took {took:?}"
        );
        if seen == status || Instant::now() > until {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn readiness_follows_whether_every_slot_can_be_served() {
    let mut cluster = PrivateCluster::start();
    let nodes = cluster.urls();
    let app = spawn_app_with(Backend::Production, |raw| {
        raw.redis_url = None;
        raw.redis_cluster = Some(nodes);
        raw.dependency_timeout_ms = DEADLINE_MS;
    })
    .await;
    assert_eq!(becomes(&app, 200).await, 200, "ready at first");

    // A slot no master serves: every node still answers PING, the slot's keys are refused.
    let owner = cluster.owner(6000);
    for node in 0..3 {
        cluster.cli(node, &["cluster", "delslots", "6000"]);
    }
    cluster.wait_state("fail");
    assert_eq!(
        becomes(&app, 503).await,
        503,
        "ready while slot 6000 has no master"
    );
    cluster.cli(owner, &["cluster", "addslots", "6000"]);
    cluster.wait_state("ok");
    assert_eq!(becomes(&app, 200).await, 200, "ready again");

    // A master goes away: its slots cannot be served from now on, though the other nodes still
    // say `cluster_state:ok` until the node timeout.
    let gone = Instant::now();
    cluster.kill(2);
    assert_eq!(becomes(&app, 503).await, 503, "ready with a master gone");
    assert!(
        gone.elapsed() < Duration::from_millis(NODE_TIMEOUT_MS),
        "seen only after the node timeout"
    );
    assert_eq!(cluster.state(0), "ok", "the cluster has not noticed yet");
}
