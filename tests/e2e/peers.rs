//! The real peers of the sources tests, started on loopback by the test and ended by
//! their PID when dropped: the Python test peers in `tests/peers/` (a
//! `prometheus_client` service, and the streams peer with SSE, WebSocket, NDJSON, a
//! JSON dashboard and probe endpoints), run with the venv `make setup-peers` makes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::browser::{E2eError, E2eResult, artifacts_dir};

/// A peer process; killed (by its own PID) when dropped.
pub struct Peer {
    child: Child,
    /// The ports it wrote to its port file.
    pub ports: Vec<u16>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> PathBuf {
    std::env::var_os("REDLINE_E2E_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
        PathBuf::from,
    )
}

impl Peer {
    /// Starts `tests/peers/{script}` with `--port-file` and waits (up to 20 s) for the
    /// ports it listens on.
    pub fn start(script: &str, args: &[&str]) -> E2eResult<Peer> {
        let dir = artifacts_dir()?;
        let port_file = dir.join(format!("{script}.{}.port", std::process::id()));
        let _ = std::fs::remove_file(&port_file);
        let log = std::fs::File::create(dir.join(format!("{script}.log")))
            .map_err(|e| E2eError(format!("peer log: {e}")))?;
        let script_path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/peers")
            .join(script);
        let python = python();
        let child = Command::new(&python)
            .arg(&script_path)
            .arg("--port-file")
            .arg(&port_file)
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| {
                E2eError(format!(
                    "could not start {} {}: {e} (run `make setup-peers`)",
                    python.display(),
                    script_path.display()
                ))
            })?;
        let mut peer = Peer {
            child,
            ports: Vec::new(),
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let ports: Vec<u16> = text
                    .split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect();
                if !ports.is_empty() {
                    peer.ports = ports;
                    return Ok(peer);
                }
            }
            if let Ok(Some(status)) = peer.child.try_wait() {
                return Err(E2eError(format!(
                    "{script} exited with {status} before listening; see its log in {}",
                    dir.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(E2eError(format!("{script} did not listen within 20 s")))
    }

    /// `http://127.0.0.1:{port}{path}` for the peer's `index`-th port.
    pub fn url(&self, index: usize, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}{path}",
            self.ports.get(index).copied().unwrap_or(0)
        )
    }
}

/// A free loopback port (bound and released; good enough for a test's own peers).
fn free_port() -> E2eResult<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| E2eError(format!("no free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| E2eError(format!("no free port: {e}")))
}

impl Peer {
    /// Starts Debian's `prometheus` on a free loopback port, scraping `targets`
    /// (`host:port`) every second, with CORS open to any origin, and waits until it
    /// is ready. Its data lives in a fresh folder under the artifacts.
    pub fn prometheus(targets: &[String]) -> E2eResult<Peer> {
        let targets: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        let config = format!(
            "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\n\
             scrape_configs:\n  - job_name: app\n    static_configs: [{{ targets: [{}] }}]\n",
            targets.join(", ")
        );
        Peer::daemon("prometheus", "prometheus", &config, |config, data, port| {
            vec![
                format!("--config.file={config}"),
                format!("--storage.tsdb.path={data}"),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--web.cors.origin=.*".to_owned(),
            ]
        })
    }

    /// Starts Debian's Alertmanager (`prometheus-alertmanager`) on a free loopback
    /// port with one receiver that sends nowhere and no clustering, and waits until it
    /// is ready.
    pub fn alertmanager() -> E2eResult<Peer> {
        let config = "route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n";
        Peer::daemon(
            "alertmanager",
            "prometheus-alertmanager",
            config,
            |config, data, port| {
                vec![
                    format!("--config.file={config}"),
                    format!("--storage.path={data}"),
                    format!("--web.listen-address=127.0.0.1:{port}"),
                    "--cluster.listen-address=".to_owned(),
                ]
            },
        )
    }

    /// Starts `program` with its YAML `config` in a fresh folder under the artifacts,
    /// on a free loopback port, with the arguments `args(config, data, port)` builds,
    /// and waits up to 30 s for its `/-/ready`.
    fn daemon(
        name: &str,
        program: &str,
        config: &str,
        args: impl FnOnce(&str, &str, u16) -> Vec<String>,
    ) -> E2eResult<Peer> {
        let dir = artifacts_dir()?.join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| E2eError(format!("{}: {e}", dir.display())))?;
        let port = free_port()?;
        let config_path = dir.join(format!("{name}.yml"));
        std::fs::write(&config_path, config)
            .map_err(|e| E2eError(format!("{}: {e}", config_path.display())))?;
        let log_path = dir.join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path)
            .map_err(|e| E2eError(format!("{}: {e}", log_path.display())))?;
        let child = Command::new(program)
            .args(args(
                &config_path.display().to_string(),
                &dir.join("data").display().to_string(),
                port,
            ))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| {
                E2eError(format!(
                    "could not start {program}: {e} (run `make setup-{name}`)"
                ))
            })?;
        let peer = Peer {
            child,
            ports: vec![port],
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if get(&peer.url(0, "/-/ready")).is_ok() {
                return Ok(peer);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(E2eError(format!(
            "{program} was not ready within 30 s; see {}",
            log_path.display()
        )))
    }
}

/// A plain HTTP/1.0 GET on loopback, for driving the peers; returns the body of a
/// 2xx answer.
pub fn get(url: &str) -> E2eResult<String> {
    let reply =
        crate::static_server::http_get(url).map_err(|e| E2eError(format!("GET {url}: {e}")))?;
    let body = String::from_utf8_lossy(&reply.body).into_owned();
    if !(200..300).contains(&reply.status) {
        return Err(E2eError(format!(
            "GET {url}: HTTP {}: {body}",
            reply.status
        )));
    }
    Ok(body)
}
