//! A plain static file server on an ephemeral loopback port, for the end-to-end tests.
//!
//! It serves a folder as any static host would (no SPA fallback, no rewriting), plus
//! "overlay" files held in memory so that a test can add a broken config without
//! copying the bundle. It records every requested path so that a test can check that
//! the page asked only for what it should (the sub-path test). Each connection is
//! answered once and closed; the server stops when dropped.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Request heads larger than this are refused: the browser never sends one.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A static file server for one folder; stops when dropped.
pub struct StaticServer {
    addr: SocketAddr,
    hook: Arc<Hook>,
    stop: Arc<AtomicBool>,
    requested_paths: Arc<Mutex<Vec<String>>>,
    accept_thread: Option<JoinHandle<()>>,
}

struct Site {
    root: PathBuf,
    overlay: HashMap<String, Vec<u8>>,
    /// URL path prefixes answered from another loopback server (`http://host:port`):
    /// the page reaches that server from its own origin, as behind a reverse proxy.
    proxies: Vec<(String, String)>,
    requested_paths: Arc<Mutex<Vec<String>>>,
    hook: Arc<Hook>,
}

/// `POST /__test/hook`: a webhook receiver that fails its first attempts on request.
#[derive(Default)]
pub struct Hook {
    /// Attempts still to answer with 503.
    fail_next: std::sync::atomic::AtomicUsize,
    /// The bodies it accepted, in order.
    bodies: Mutex<Vec<String>>,
    /// Attempts it refused.
    refused: std::sync::atomic::AtomicUsize,
}

/// The test webhook receiver's path.
pub const HOOK_PATH: &str = "/__test/hook";

impl StaticServer {
    /// Serves `root` on 127.0.0.1 at a free port. `overlay` maps URL paths (such as
    /// `/broken.json`) to contents served instead of, or besides, the folder's files.
    /// It answers paths under each `(prefix, upstream)` from `upstream`
    /// (an `http://127.0.0.1:port` base) with the rest of the path, passing the status,
    /// content type and body through.
    pub fn start(
        root: &Path,
        overlay: &[(&str, &[u8])],
        proxies: &[(&str, String)],
    ) -> io::Result<StaticServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let requested_paths = Arc::new(Mutex::new(Vec::new()));
        let hook = Arc::new(Hook::default());
        let site = Arc::new(Site {
            root: root.to_path_buf(),
            overlay: overlay
                .iter()
                .map(|(path, body)| ((*path).to_owned(), body.to_vec()))
                .collect(),
            proxies: proxies
                .iter()
                .map(|(prefix, upstream)| ((*prefix).to_owned(), upstream.clone()))
                .collect(),
            requested_paths: Arc::clone(&requested_paths),
            hook: Arc::clone(&hook),
        });
        let stop_flag = Arc::clone(&stop);
        let accept_thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let site = Arc::clone(&site);
                std::thread::spawn(move || {
                    // A failed answer is the browser's problem to report, not ours.
                    let _ = site.answer(stream);
                });
            }
        });
        Ok(StaticServer {
            addr,
            hook,
            stop,
            requested_paths,
            accept_thread: Some(accept_thread),
        })
    }

    /// The absolute URL of `path_and_query` (which starts with `/`) on this server.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }

    /// Makes the hook receiver refuse its next `count` attempts with 503.
    pub fn fail_hook_attempts(&self, count: usize) {
        self.hook.fail_next.store(count, Ordering::SeqCst);
    }

    /// The bodies the hook receiver accepted, and how many attempts it refused.
    pub fn hook_received(&self) -> (Vec<String>, usize) {
        let bodies = self
            .hook
            .bodies
            .lock()
            .map(|b| b.clone())
            .unwrap_or_default();
        (bodies, self.hook.refused.load(Ordering::SeqCst))
    }

    /// Every path requested so far, in order, without query strings.
    pub fn requested_paths(&self) -> Vec<String> {
        self.requested_paths
            .lock()
            .map(|paths| paths.clone())
            .unwrap_or_default()
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

impl Site {
    fn answer(&self, mut stream: TcpStream) -> io::Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        let (head, body) = read_request(&mut stream)?;
        let request_line = head.lines().next().unwrap_or_default();
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default();
        let target = parts.next().unwrap_or("/");
        let path = percent_decode(target.split(['?', '#']).next().unwrap_or("/"));
        if let Ok(mut paths) = self.requested_paths.lock() {
            paths.push(path.clone());
        }
        let proxied = self.proxies.iter().find_map(|(prefix, upstream)| {
            target
                .strip_prefix(prefix.as_str())
                .map(|rest| format!("{upstream}/{}", rest.trim_start_matches('/')))
        });
        let response = match (method, proxied) {
            ("GET" | "HEAD" | "POST", None) if path.starts_with(DELAY_PATH) => {
                Ok(delayed_answer(&path[DELAY_PATH.len()..]))
            }
            ("POST", None) if path == HOOK_PATH => Ok(self.hook.receive(&body)),
            ("GET" | "HEAD", Some(url)) => forward("GET", &url, &[]),
            ("POST", Some(url)) => forward("POST", &url, &body),
            ("GET" | "HEAD", None) => self
                .lookup(&path)
                .map(|(content_type, body)| (200, content_type.to_owned(), body)),
            _ => Err((405, "Method Not Allowed")),
        };
        let (status, reason, content_type, body) = match response {
            Ok((status, content_type, body)) => (status, "OK", content_type, body),
            Err((status, reason)) => (
                status,
                reason,
                "text/plain; charset=utf-8".to_owned(),
                reason.as_bytes().to_vec(),
            ),
        };
        // Every answer allows other origins, as a host that lets pages elsewhere embed
        // the bundle does.
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\nCache-Control: no-store\r\n\
             Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        if method != "HEAD" {
            stream.write_all(&body)?;
        }
        stream.flush()?;
        stream.shutdown(Shutdown::Write)
    }

    /// The content type and body for a URL path, or the HTTP error to answer.
    fn lookup(&self, url_path: &str) -> Result<(&'static str, Vec<u8>), (u16, &'static str)> {
        let url_path = if url_path.ends_with('/') {
            format!("{url_path}index.html")
        } else {
            url_path.to_owned()
        };
        if let Some(body) = self.overlay.get(&url_path) {
            return Ok((content_type(&url_path), body.clone()));
        }
        let relative = Path::new(url_path.trim_start_matches('/'));
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err((403, "Forbidden"));
        }
        let file = self.root.join(relative);
        match std::fs::read(&file) {
            Ok(body) => Ok((content_type(&url_path), body)),
            Err(_) => Err((404, "Not Found")),
        }
    }
}

/// `/__test/delay/{ms}/{status}` answers after `ms` milliseconds (at most 5 s) with
/// `status`: the real-user monitoring test's endpoint of known delays and errors.
pub const DELAY_PATH: &str = "/__test/delay/";

fn delayed_answer(rest: &str) -> (u16, String, Vec<u8>) {
    let mut parts = rest.split('/');
    let ms: u64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let status: u16 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .filter(|s| (200..=599).contains(s))
        .unwrap_or(200);
    std::thread::sleep(Duration::from_millis(ms.min(5_000)));
    (
        status,
        "application/json".to_owned(),
        format!("{{\"delayed_ms\":{ms}}}").into_bytes(),
    )
}

/// One answer of `http_get`.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The `Content-Type` header (`application/octet-stream` when absent).
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Hook {
    fn receive(&self, body: &[u8]) -> (u16, String, Vec<u8>) {
        let refuse = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if refuse {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return (503, "text/plain".to_owned(), b"try again".to_vec());
        }
        if let Ok(mut bodies) = self.bodies.lock() {
            bodies.push(String::from_utf8_lossy(body).into_owned());
        }
        (200, "application/json".to_owned(), b"{}".to_vec())
    }
}

/// GETs `url` with plain HTTP/1.0 on loopback: enough for the tests' own peers, and
/// for the proxy paths of this server.
pub fn http_get(url: &str) -> io::Result<Reply> {
    http_request("GET", url, &[])
}

/// Sends one HTTP/1.0 request with `body` (a JSON body when not empty) on loopback.
pub fn http_request(method: &str, url: &str, body: &[u8]) -> io::Result<Reply> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("only http:// URLs"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut upstream = TcpStream::connect(host)?;
    upstream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(upstream, "{method} /{path} HTTP/1.0\r\nHost: {host}\r\n")?;
    if !body.is_empty() {
        write!(
            upstream,
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        )?;
    }
    upstream.write_all(b"\r\n")?;
    upstream.write_all(body)?;
    let mut reply = Vec::new();
    upstream.read_to_end(&mut reply)?;
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of the response head"))?;
    let head = String::from_utf8_lossy(&reply[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no status in the response"))?;
    let content_type = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    Ok(Reply {
        status,
        content_type,
        body: reply[split + 4..].to_vec(),
    })
}

/// Answers a proxy path from upstream, or 502 when upstream cannot be read.
fn forward(
    method: &str,
    url: &str,
    body: &[u8],
) -> Result<(u16, String, Vec<u8>), (u16, &'static str)> {
    let reply = http_request(method, url, body).map_err(|_| (502, "Bad Gateway"))?;
    Ok((reply.status, reply.content_type, reply.body))
}

/// Request bodies larger than this are refused.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The request's head, and its body (by `Content-Length`).
fn read_request(stream: &mut TcpStream) -> io::Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    let end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Ok((String::from_utf8_lossy(&data).into_owned(), Vec::new()));
        }
        data.extend_from_slice(&buffer[..read]);
        if data.len() > MAX_HEAD_BYTES {
            return Err(io::Error::other("request head too large"));
        }
    };
    let head = String::from_utf8_lossy(&data[..end]).into_owned();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0)
        .min(MAX_BODY_BYTES);
    let mut body = data[end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&buffer[..read]);
    }
    body.truncate(length);
    Ok((head, body))
}

fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| {
            std::str::from_utf8(h)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        });
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
