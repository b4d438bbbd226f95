//! The control plane: one thread running a single-threaded tokio runtime
//! that serves the JSON status socket and the metrics endpoint from the
//! latest snapshot. The data plane hands snapshots over a `watch` channel
//! and never waits for the control plane.
//!
//! Status socket protocol (a Unix stream socket): on connect the daemon
//! writes the current snapshot as one line of JSON. A client that then
//! sends the line `follow` receives one more line on every update until it
//! disconnects; any other input, end of input or 2 s of silence closes the
//! connection.
//!
//! Metrics: HTTP/1.1 `GET /metrics` (or `/`) answers the OpenMetrics text of
//! the current snapshot; anything else is 404 or 405.

use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::sync::watch;

use super::metrics;
use super::snapshot::Snapshot;

/// How long a status client has to say `follow` (or a metrics client to
/// send its request).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest HTTP request head accepted.
const MAX_REQUEST: usize = 8192;
/// Connections served at once per endpoint; more wait in the backlog.
const MAX_CLIENTS: usize = 64;

/// What to serve.
#[derive(Clone, Debug, Default)]
pub struct ControlSettings {
    /// The status socket and its file mode.
    pub status_socket: Option<(PathBuf, u32)>,
    /// The metrics listen address.
    pub metrics_listen: Option<SocketAddr>,
}

/// The running control plane. Dropping it removes the status socket file;
/// the thread ends with the process.
pub struct ControlPlane {
    tx: watch::Sender<Arc<Snapshot>>,
    status_path: Option<PathBuf>,
    metrics_addr: Option<SocketAddr>,
}

/// Bind the status socket at `path` with file mode `mode`. A socket file
/// nobody answers on (left by a run that was killed) is replaced; one that a
/// live process serves is an error.
fn bind_status(path: &Path, mode: u32) -> Result<std::os::unix::net::UnixListener, String> {
    let name = path.display();
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if !meta.file_type().is_socket() {
            return Err(format!(
                "status-socket {name}: exists and is not a socket; remove it or choose another path"
            ));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(format!(
                "status-socket {name}: another process is serving it (a second daemon?)"
            ));
        }
        std::fs::remove_file(path).map_err(|e| format!("status-socket {name}: {e}"))?;
    }
    let listener = std::os::unix::net::UnixListener::bind(path).map_err(|e| {
        let hint = if e.kind() == io::ErrorKind::NotFound {
            " (does its directory exist?)"
        } else {
            ""
        };
        format!("status-socket {name}: {e}{hint}")
    })?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("status-socket {name}: setting mode {mode:o}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("status-socket {name}: {e}"))?;
    Ok(listener)
}

fn bind_metrics(addr: SocketAddr) -> Result<std::net::TcpListener, String> {
    let l = std::net::TcpListener::bind(addr).map_err(|e| format!("metrics-listen {addr}: {e}"))?;
    l.set_nonblocking(true)
        .map_err(|e| format!("metrics-listen {addr}: {e}"))?;
    Ok(l)
}

impl ControlPlane {
    /// Bind what `settings` asks for (errors name the key and path) and
    /// start serving `first`.
    ///
    /// # Errors
    /// A one-line reason when a socket cannot be bound or the thread not
    /// started.
    pub fn start(settings: &ControlSettings, first: Snapshot) -> Result<Self, String> {
        let status = match &settings.status_socket {
            Some((path, mode)) => Some(bind_status(path, *mode)?),
            None => None,
        };
        let metrics = match settings.metrics_listen {
            Some(addr) => Some(bind_metrics(addr)?),
            None => None,
        };
        let metrics_addr = metrics.as_ref().and_then(|l| l.local_addr().ok());
        let (tx, rx) = watch::channel(Arc::new(first));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("control plane: {e}"))?;
        std::thread::Builder::new()
            .name("statime-control".into())
            .spawn(move || runtime.block_on(serve(status, metrics, rx)))
            .map_err(|e| format!("control plane thread: {e}"))?;
        Ok(Self {
            tx,
            status_path: settings.status_socket.as_ref().map(|(p, _)| p.clone()),
            metrics_addr,
        })
    }

    /// Replace the served snapshot (never blocks).
    pub fn publish(&self, snapshot: Snapshot) {
        self.tx.send_replace(Arc::new(snapshot));
    }

    /// The address the metrics endpoint is bound to (port 0 resolved).
    #[must_use]
    pub const fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        if let Some(p) = &self.status_path {
            let _ = std::fs::remove_file(p);
        }
    }
}

async fn serve(
    status: Option<std::os::unix::net::UnixListener>,
    metrics: Option<std::net::TcpListener>,
    rx: watch::Receiver<Arc<Snapshot>>,
) {
    let status = status.and_then(|l| UnixListener::from_std(l).ok());
    let metrics = metrics.and_then(|l| TcpListener::from_std(l).ok());
    let limit = Arc::new(tokio::sync::Semaphore::new(MAX_CLIENTS));
    let status_task = async {
        let Some(l) = status else {
            return std::future::pending().await;
        };
        loop {
            let Ok((stream, _)) = l.accept().await else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let Ok(permit) = limit.clone().acquire_owned().await else {
                return;
            };
            let rx = rx.clone();
            tokio::spawn(async move {
                let _ = status_client(stream, rx).await;
                drop(permit);
            });
        }
    };
    let metrics_limit = Arc::new(tokio::sync::Semaphore::new(MAX_CLIENTS));
    let metrics_task = async {
        let Some(l) = metrics else {
            return std::future::pending().await;
        };
        loop {
            let Ok((stream, _)) = l.accept().await else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let Ok(permit) = metrics_limit.clone().acquire_owned().await else {
                return;
            };
            let rx = rx.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(CLIENT_TIMEOUT * 2, metrics_client(stream, rx)).await;
                drop(permit);
            });
        }
    };
    tokio::join!(status_task, metrics_task);
}

async fn status_client(
    stream: UnixStream,
    mut rx: watch::Receiver<Arc<Snapshot>>,
) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let first = rx.borrow_and_update().to_json_line();
    write.write_all(first.as_bytes()).await?;
    let mut lines = BufReader::new(read.take(256)).lines();
    let follow = matches!(
        tokio::time::timeout(CLIENT_TIMEOUT, lines.next_line()).await,
        Ok(Ok(Some(l))) if l.trim() == "follow"
    );
    if !follow {
        return Ok(());
    }
    while rx.changed().await.is_ok() {
        let line = rx.borrow_and_update().to_json_line();
        write.write_all(line.as_bytes()).await?;
    }
    Ok(())
}

async fn metrics_client(
    mut stream: tokio::net::TcpStream,
    rx: watch::Receiver<Arc<Snapshot>>,
) -> io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() + n > MAX_REQUEST {
            return Ok(());
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    let text = String::from_utf8_lossy(&head);
    let mut words = text.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics" | "/") => {
            let snapshot = Arc::clone(&rx.borrow());
            ("200 OK", metrics::CONTENT_TYPE, metrics::render(&snapshot))
        }
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "try /metrics\n".to_owned(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "GET only\n".to_owned(),
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        response.push_str(&body);
    }
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
