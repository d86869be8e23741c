//! A TCP proxy between the app and a dependency that can black-hole traffic (a dead switch, a
//! hung server), freeze the connections open at one moment (a partition of those flows: they
//! stay open and silent while new ones work), or stop (a server that went away: the port
//! refuses, open connections are cut).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct Proxy {
    pub port: u16,
    upstream: String,
    blocked: Arc<AtomicBool>,
    /// One flag per connection accepted so far: a frozen one moves no byte again.
    frozen: Arc<Mutex<Vec<Arc<AtomicBool>>>>,
    /// The accept loop and every connection, so that `stop` can end them all.
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    blocked: Arc<AtomicBool>,
    frozen: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while blocked.load(Ordering::SeqCst) || frozen.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

impl Proxy {
    /// A proxy on a free local port to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            port: listener.local_addr().unwrap().port(),
            upstream,
            blocked: Arc::new(AtomicBool::new(false)),
            frozen: Arc::default(),
            tasks: Arc::new(Mutex::new(Vec::new())),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let (blocked, upstream, tasks, frozen) = (
            self.blocked.clone(),
            self.upstream.clone(),
            self.tasks.clone(),
            self.frozen.clone(),
        );
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (b, upstream) = (blocked.clone(), upstream.clone());
                let f = Arc::new(AtomicBool::new(false));
                frozen.lock().unwrap().push(f.clone());
                let conn = tokio::spawn(async move {
                    while b.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pump(cr, sw, b.clone(), f.clone()), pump(sr, cw, b, f));
                });
                tasks.lock().unwrap().push(conn.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    /// Bytes stop moving, in both directions and on new connections too, until unblocked.
    pub fn block(&self, on: bool) {
        self.blocked.store(on, Ordering::SeqCst);
    }

    /// The connections open now stop moving bytes, in both directions, and stay open; connections
    /// made later work.
    pub fn freeze_open(&self) {
        for f in self.frozen.lock().unwrap().iter() {
            f.store(true, Ordering::SeqCst);
        }
    }

    /// The dependency goes away: its port refuses connections and open ones are cut.
    pub async fn stop(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
        while TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The dependency is back on the same port.
    pub async fn restart(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url(&self, url: &str) -> String {
        let mut u = url::Url::parse(url).unwrap();
        u.set_host(Some("127.0.0.1")).unwrap();
        u.set_port(Some(self.port)).unwrap();
        u.to_string()
    }
}

/// The `host:port` a URL points at.
pub fn upstream(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    format!(
        "{}:{}",
        u.host_str().unwrap(),
        u.port_or_known_default().unwrap()
    )
}
