//! Headless Chromium driven through Debian's chromedriver, for the end-to-end tests.
//!
//! [`Browser::launch`] starts `/usr/bin/chromedriver` on a free loopback port in its
//! own process group, opens a session with a fresh profile and the flags that keep
//! Chromium off the network, and installs a recorder of uncaught errors and
//! `console.error` calls into every page before its scripts run. Everything it
//! started is ended when it is dropped, also when a test fails or panics.

use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// How long chromedriver may take to answer its status endpoint.
const DRIVER_STARTUP: Duration = Duration::from_secs(15);
/// Bounds on WebDriver commands, so that a hung page fails the test instead of CI.
const PAGE_LOAD_TIMEOUT_MS: u64 = 20_000;
const SCRIPT_TIMEOUT_MS: u64 = 10_000;

/// Chromium flags: headless as root, and quiet on a closed network.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
    // Lets the embedding test collect garbage before it reads the heap.
    "--js-flags=--expose-gc",
];

/// Recorded into every document before its own scripts: what went wrong in the page.
const ERROR_RECORDER: &str = r#"
window.__e2e = { errors: [] };
window.addEventListener('error', (e) => {
  const where = e.target && e.target !== window ? ' loading ' + (e.target.src || e.target.href || e.target.tagName) : '';
  window.__e2e.errors.push('uncaught: ' + (e.message || e.type) + where);
}, true);
window.addEventListener('unhandledrejection', (e) => {
  window.__e2e.errors.push('unhandled rejection: ' + e.reason);
});
const consoleError = console.error.bind(console);
console.error = (...args) => {
  window.__e2e.errors.push('console.error: ' + args.map(String).join(' '));
  consoleError(...args);
};
"#;

/// An end-to-end failure: what was expected, and what the page showed instead.
pub struct E2eError(pub String);

impl fmt::Debug for E2eError {
    // Test failures print `Debug`: show the message as written, with its line breaks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for E2eError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! from_error {
    ($($source:ty),*) => {$(
        impl From<$source> for E2eError {
            fn from(error: $source) -> Self {
                E2eError(format!("{}: {error}", stringify!($source)))
            }
        }
    )*};
}
from_error!(
    fantoccini::error::CmdError,
    fantoccini::error::NewSessionError,
    std::io::Error,
    serde_json::Error
);

/// The result of an end-to-end step.
pub type E2eResult<T> = Result<T, E2eError>;

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> E2eResult<()> {
    if condition {
        Ok(())
    } else {
        Err(E2eError(message()))
    }
}

/// Polls `probe` every 100 ms until it returns `Some`, for at most `limit`.
pub async fn wait_until<T>(
    what: &str,
    limit: Duration,
    mut probe: impl AsyncFnMut() -> E2eResult<Option<T>>,
) -> E2eResult<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = probe().await? {
            return Ok(found);
        }
        if Instant::now() >= deadline {
            return Err(E2eError(format!(
                "timed out after {:.1} s waiting for {what}",
                limit.as_secs_f64()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A chromedriver process in its own process group; the group is ended on drop.
struct DriverProcess {
    child: Child,
}

impl DriverProcess {
    fn spawn(chromedriver: &Path, port: u16, log: &Path) -> E2eResult<DriverProcess> {
        let log = File::create(log)?;
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Chromium runs as chromedriver's child: one group lets Drop end them all.
            .process_group(0)
            .spawn()
            .map_err(|e| {
                E2eError(format!(
                    "cannot start {}: {e} (`make setup-chromium` installs Debian's chromium-driver)",
                    chromedriver.display()
                ))
            })?;
        Ok(DriverProcess { child })
    }

    fn signal_group(&self, signal: &str) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args([signal, "--", &group])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                // Chromium's helpers may outlive chromedriver by a moment.
                self.signal_group("-KILL");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal_group("-KILL");
        let _ = self.child.wait();
    }
}

/// A headless Chromium session with a fresh profile.
pub struct Browser {
    client: Option<Client>,
    test_name: String,
    artifacts: PathBuf,
    // Dropped in this order, after the client: chromedriver and Chromium end, then
    // their profile goes.
    _driver: DriverProcess,
    _profile: ProfileDir,
}

/// A fresh Chromium profile folder, removed on drop.
struct ProfileDir(PathBuf);

impl Drop for ProfileDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    /// Starts chromedriver and Chromium for the test `test_name`.
    pub async fn launch(test_name: &str) -> E2eResult<Browser> {
        let artifacts = artifacts_dir()?;
        let chromedriver = env_path("REDLINE_E2E_CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = env_path("REDLINE_E2E_CHROMIUM", "/usr/bin/chromium");
        let port = free_port()?;
        // Declared before the driver, so that on an early return it goes after it.
        let profile = ProfileDir(std::env::temp_dir().join(format!(
            "redline-e2e-{test_name}-{}-{port}",
            std::process::id()
        )));
        let _ = std::fs::remove_dir_all(&profile.0);
        let driver = DriverProcess::spawn(
            &chromedriver,
            port,
            &artifacts.join(format!("{test_name}-chromedriver.log")),
        )?;
        let driver_url = format!("http://127.0.0.1:{port}");
        wait_for_driver(port).await?;

        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.0.display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
            "timeouts": { "pageLoad": PAGE_LOAD_TIMEOUT_MS, "script": SCRIPT_TIMEOUT_MS },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver_url)
            .await?;
        let session_id = client.session_id().await?.unwrap_or_default();
        cdp(
            port,
            &session_id,
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": ERROR_RECORDER }),
        )?;
        Ok(Browser {
            client: Some(client),
            test_name: test_name.to_owned(),
            artifacts,
            _driver: driver,
            _profile: profile,
        })
    }

    /// The WebDriver client.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("the client lives until close")
    }

    /// Saves a PNG of the viewport as `target/e2e-artifacts/<test>-<label>.png`.
    pub async fn screenshot(&self, label: &str) -> E2eResult<PathBuf> {
        let png = self.client().screenshot().await?;
        let path = self
            .artifacts
            .join(format!("{}-{label}.png", self.test_name));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Uncaught errors, failed loads and `console.error` calls recorded in the page.
    pub async fn page_errors(&self) -> E2eResult<Vec<String>> {
        let errors = self
            .client()
            .execute(
                "return (window.__e2e && window.__e2e.errors) || [];",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(errors)?)
    }

    /// What a failure report needs: a screenshot, the page's errors and its text.
    pub async fn failure_context(&self) -> String {
        let screenshot = match self.screenshot("failure").await {
            Ok(path) => format!("screenshot: {}", path.display()),
            Err(e) => format!("no screenshot: {e}"),
        };
        let url = self
            .client()
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        let errors = self.page_errors().await.unwrap_or_default();
        let text = self
            .client()
            .execute(
                "return document.body ? document.body.innerText : '(no body)';",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let text: String = text.chars().take(1500).collect();
        format!("{screenshot}\nurl: {url}\npage errors: {errors:#?}\npage text (start):\n{text}")
    }

    /// Ends the session (Chromium quits); the driver process ends on drop.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

/// `target/e2e-artifacts/`, where screenshots and driver logs are kept.
pub fn artifacts_dir() -> E2eResult<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-artifacts");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn env_path(name: &str, default: &str) -> PathBuf {
    std::env::var_os(name).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

fn free_port() -> E2eResult<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_for_driver(port: u16) -> E2eResult<()> {
    wait_until("chromedriver to listen", DRIVER_STARTUP, async || {
        Ok(http_request(port, "GET", "/status", "")
            .ok()
            .filter(|answer| answer.contains("\"ready\":true"))
            .map(|_| ()))
    })
    .await
}

/// Runs a Chrome DevTools Protocol command through chromedriver's `goog/cdp` endpoint.
fn cdp(port: u16, session_id: &str, command: &str, params: Value) -> E2eResult<Value> {
    let body = json!({ "cmd": command, "params": params }).to_string();
    let path = format!("/session/{session_id}/goog/cdp/execute");
    let answer = http_request(port, "POST", &path, &body)?;
    // The body is one JSON object (chromedriver may chunk it: take the outer braces).
    let body_start = answer.find("\r\n\r\n").map_or(0, |i| i + 4);
    let json_text = match (answer[body_start..].find('{'), answer.rfind('}')) {
        (Some(open), Some(close)) if body_start + open <= close => {
            &answer[body_start + open..=close]
        }
        _ => return Err(E2eError(format!("CDP {command}: no JSON in {answer:?}"))),
    };
    let value: Value = serde_json::from_str(json_text)?;
    ensure(value["value"].get("error").is_none(), || {
        format!("CDP {command} failed: {value}")
    })?;
    Ok(value)
}

/// One HTTP/1.1 exchange with chromedriver over a fresh connection.
fn http_request(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    // chromedriver keeps the connection open: read the head, then Content-Length bytes.
    let mut answer = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..read]);
        let Some(head_end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&answer[..head_end]).to_ascii_lowercase();
        let body_length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse::<usize>().ok());
        if body_length.is_some_and(|length| answer.len() >= head_end + 4 + length) {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}
