//! Issue 22, point 8: nodes started at once on a fresh PostgreSQL database all come up; the
//! migrations run under an advisory lock, so the later nodes wait for the first instead of
//! failing on the tables it is creating.

use crate::nodes::Cluster;

#[tokio::test]
async fn nodes_starting_at_once_on_a_fresh_database_all_come_up() {
    let cluster = Cluster::new();
    let mut nodes: Vec<_> = (0..3).map(|_| cluster.spawn(&[])).collect();
    for node in &mut nodes {
        let status = node.wait_readyz().await;
        assert_eq!(
            status,
            200,
            "node {} never got ready: {}",
            node.base,
            node.log()
        );
    }
}
