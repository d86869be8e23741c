//! The connection under the Redis store: one Redis or a cluster, behind one interface.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use redis::aio::ConnectionLike;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::RoutingInfo;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use tokio::sync::OnceCell;

use super::super::StoreError;
use super::single::Single;

/// A cluster connection made on first use: a cluster that is down at start is retried on use.
#[derive(Clone)]
pub(super) struct LazyCluster {
    pub(super) client: Arc<redis::cluster::ClusterClient>,
    pub(super) conn: Arc<OnceCell<ClusterConnection>>,
}

impl LazyCluster {
    async fn get(&self) -> redis::RedisResult<ClusterConnection> {
        let conn = self
            .conn
            .get_or_try_init(|| self.client.get_async_connection())
            .await?;
        Ok(conn.clone())
    }
}

#[derive(Clone)]
pub(super) enum Target {
    Single(Single),
    Cluster(LazyCluster),
}

/// One Redis or a cluster, behind the one interface the commands and scripts use. Every request
/// runs as a task of the runtime the store was made on (the main one): the redis crate spawns its
/// connection drivers and reconnects on the runtime of the call, and actix's workers each have a
/// runtime of their own, stopped first on shutdown — a driver there would take the connection of
/// every other worker down with it. A request whose caller gave up still finishes there, so a
/// cluster's first connection, which waits for every node, completes in the background.
#[derive(Clone)]
pub(super) struct Conn {
    pub(super) target: Target,
    pub(super) runtime: tokio::runtime::Handle,
    /// Requests sent (a command or a pipeline: one round trip each).
    pub(super) requests: Arc<AtomicU64>,
    /// When a request last came back answered, in ms after `started` (0: never).
    pub(super) answered_at: Arc<AtomicU64>,
    pub(super) started: Instant,
}

impl Conn {
    pub(super) fn new(target: Target) -> Result<Conn, StoreError> {
        Ok(Conn {
            target,
            runtime: runtime()?,
            requests: Arc::default(),
            answered_at: Arc::default(),
            started: Instant::now(),
        })
    }

    /// Milliseconds since the connection was made, at least 1.
    pub(super) fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// A command sent where `routing` says, on a cluster (the readiness probes); on one Redis,
    /// an error.
    pub(super) async fn route(&self, cmd: Cmd, routing: RoutingInfo) -> redis::RedisResult<Value> {
        let Target::Cluster(lazy) = self.target.clone() else {
            return Err((redis::ErrorKind::Client, "routing needs a cluster").into());
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        let task = self
            .runtime
            .spawn(async move { lazy.get().await?.route_command(cmd, routing).await });
        let result = task.await.map_err(task_failed)?;
        self.answered(&result);
        result
    }

    fn answered<T>(&self, result: &redis::RedisResult<T>) {
        // A server error is an answer too: the connection works.
        let answer = match result {
            Ok(_) => true,
            Err(e) => matches!(e.kind(), redis::ErrorKind::Server(_)),
        };
        if answer {
            self.answered_at.store(self.elapsed_ms(), Ordering::Relaxed);
        }
    }
}

pub(super) fn task_failed(e: tokio::task::JoinError) -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, "redis task failed", e.to_string()))
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let (target, cmd) = (self.target.clone(), cmd.clone());
        let task = self.runtime.spawn(async move {
            match target {
                Target::Single(s) => {
                    let mut current = s.current();
                    let result = current.manager.req_packed_command(&cmd).await;
                    s.answered(current.generation, &result);
                    result
                }
                Target::Cluster(lazy) => lazy.get().await?.req_packed_command(&cmd).await,
            }
        });
        Box::pin(async move {
            let result = task.await.map_err(task_failed)?;
            self.answered(&result);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let (target, pipeline) = (self.target.clone(), pipeline.clone());
        let task = self.runtime.spawn(async move {
            match target {
                Target::Single(s) => {
                    let mut current = s.current();
                    let sent = current
                        .manager
                        .req_packed_commands(&pipeline, offset, count);
                    let result = sent.await;
                    s.answered(current.generation, &result);
                    result
                }
                Target::Cluster(lazy) => {
                    let mut c = lazy.get().await?;
                    c.req_packed_commands(&pipeline, offset, count).await
                }
            }
        });
        Box::pin(async move {
            let result = task.await.map_err(task_failed)?;
            self.answered(&result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        match &self.target {
            Target::Single(s) => s.current().manager.get_db(),
            Target::Cluster(_) => 0,
        }
    }
}

/// The runtime the store is made on, which its requests run on.
pub(super) fn runtime() -> Result<tokio::runtime::Handle, StoreError> {
    tokio::runtime::Handle::try_current()
        .map_err(|_| StoreError::Unavailable("the Redis store needs a tokio runtime".into()))
}
