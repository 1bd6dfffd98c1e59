//! Network I/O for the fetched sources: bounded fetches with a timeout and a size
//! cap, streamed bodies, and timed probes. Every failure comes back as a
//! [`NetError`] that says what happened in words a user can act on.

use std::cell::Cell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::describe;

/// How to fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchOptions {
    /// Give up after this long (the whole request, body included); 0 waits forever
    /// (streams).
    pub timeout_ms: u32,
    /// Stop reading past this many body bytes.
    pub max_bytes: usize,
    /// `no-cors`: the response is opaque (no status, no body), but reachability and
    /// time are still measured.
    pub opaque: bool,
    /// The `Accept` header, if any.
    pub accept: Option<&'static str>,
    /// Read the body (probes only need the time to the end of the response).
    pub read_body: bool,
    /// A JSON body to POST (webhooks); a GET without one.
    pub post_json: Option<String>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            timeout_ms: 10_000,
            max_bytes: 16 << 20,
            opaque: false,
            accept: None,
            read_body: true,
            post_json: None,
        }
    }
}

/// What a fetch brought back.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchReply {
    /// HTTP status; 0 for an opaque (`no-cors`) response.
    pub status: u16,
    /// True for an opaque response: the status and body are hidden from the page.
    pub opaque: bool,
    /// The body, up to the cap.
    pub body: Vec<u8>,
    /// The `Content-Type` header (empty when absent or hidden).
    pub content_type: String,
    /// Milliseconds from the call to the end of the body, measured on the page.
    pub elapsed_ms: f64,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq)]
pub enum NetError {
    /// No answer within the timeout.
    Timeout {
        /// The timeout, milliseconds.
        ms: u32,
    },
    /// The browser refused or could not reach the URL. Browsers report a CORS refusal
    /// and an unreachable host the same way, so the message names both.
    Network(String),
    /// The body was larger than the cap; reading stopped there.
    TooLarge {
        /// The cap, bytes.
        limit: usize,
    },
    /// The browser has no window or fetch (a worker, or a test without a DOM).
    Unavailable(String),
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::Timeout { ms } => write!(f, "timed out after {:.1} s", f64::from(*ms) / 1e3),
            NetError::Network(detail) => write!(
                f,
                "network error or blocked by CORS ({detail}); the server must answer with \
                 Access-Control-Allow-Origin for this page's origin"
            ),
            NetError::TooLarge { limit } => {
                write!(f, "response larger than the {} KiB cap", limit / 1024)
            }
            NetError::Unavailable(detail) => write!(f, "fetch is unavailable: {detail}"),
        }
    }
}

/// Aborts a request when dropped before it finished, or when the timeout passes first.
struct Deadline {
    controller: web_sys::AbortController,
    expired: Rc<Cell<bool>>,
    finished: bool,
    _timer: Option<Timeout>,
}

impl Deadline {
    fn new(timeout_ms: u32) -> Result<Deadline, NetError> {
        let controller =
            web_sys::AbortController::new().map_err(|e| NetError::Unavailable(describe(&e)))?;
        let expired = Rc::new(Cell::new(false));
        // setTimeout takes at most 2^31 - 1 ms; longer is as good as forever.
        let timer = (1..=i32::MAX as u32).contains(&timeout_ms).then(|| {
            let controller = controller.clone();
            let expired = Rc::clone(&expired);
            Timeout::new(timeout_ms, move || {
                expired.set(true);
                controller.abort();
            })
        });
        Ok(Deadline {
            controller,
            expired,
            finished: false,
            _timer: timer,
        })
    }

    fn error(&self, timeout_ms: u32, error: &JsValue) -> NetError {
        if self.expired.get() {
            NetError::Timeout { ms: timeout_ms }
        } else {
            NetError::Network(describe(error))
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        // Ends a body still streaming when the caller stops early; a request read to
        // its end has nothing to abort (an abort costs a call into the page per fetch).
        if !self.finished {
            self.controller.abort();
        }
    }
}

async fn start(
    url: &str,
    options: &FetchOptions,
    deadline: &Deadline,
) -> Result<web_sys::Response, NetError> {
    let window = web_sys::window().ok_or_else(|| NetError::Unavailable("no window".into()))?;
    note_own_request(url);
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&deadline.controller.signal()));
    init.set_cache(web_sys::RequestCache::NoStore);
    if options.opaque {
        init.set_mode(web_sys::RequestMode::NoCors);
    }
    let headers = web_sys::Headers::new().map_err(|e| NetError::Unavailable(describe(&e)))?;
    if let Some(accept) = options.accept {
        let _ = headers.set("Accept", accept);
    }
    if let Some(body) = &options.post_json {
        init.set_method("POST");
        let _ = headers.set("Content-Type", "application/json");
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| deadline.error(options.timeout_ms, &e))?;
    response
        .dyn_into::<web_sys::Response>()
        .map_err(|_| NetError::Network("the fetch gave no response".into()))
}

/// Fetches `url` with a timeout and a body cap.
pub async fn fetch(url: &str, options: &FetchOptions) -> Result<FetchReply, NetError> {
    let started = super::performance_now();
    let mut deadline = Deadline::new(options.timeout_ms)?;
    let response = start(url, options, &deadline).await?;
    let opaque = response.type_() == web_sys::ResponseType::Opaque;
    let mut body = Vec::new();
    if options.read_body && !opaque {
        read_chunks(&response, &deadline, options, |chunk| {
            if body.len() + chunk.len() > options.max_bytes {
                return Err(NetError::TooLarge {
                    limit: options.max_bytes,
                });
            }
            body.extend_from_slice(chunk);
            Ok(())
        })
        .await?;
    } else if !opaque {
        // Probes: wait for the whole response, so the time covers the body too.
        if let Ok(promise) = response.array_buffer() {
            JsFuture::from(promise)
                .await
                .map_err(|e| deadline.error(options.timeout_ms, &e))?;
        }
    }
    deadline.finished = true;
    let content_type = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    Ok(FetchReply {
        content_type,
        status: response.status(),
        opaque,
        body,
        elapsed_ms: super::performance_now() - started,
    })
}

/// Fetches `url` and hands each chunk of the body to `on_chunk` as it arrives (NDJSON
/// streams). Returns the HTTP status once the stream ends; `on_chunk` stops it early by
/// returning an error.
pub async fn fetch_stream(
    url: &str,
    options: &FetchOptions,
    on_open: impl FnOnce(u16),
    on_chunk: impl FnMut(&[u8]) -> Result<(), NetError>,
) -> Result<u16, NetError> {
    let deadline = Deadline::new(options.timeout_ms)?;
    let response = start(url, options, &deadline).await?;
    let status = response.status();
    if !response.ok() {
        return Ok(status);
    }
    on_open(status);
    read_chunks(&response, &deadline, options, on_chunk).await?;
    Ok(status)
}

async fn read_chunks(
    response: &web_sys::Response,
    deadline: &Deadline,
    options: &FetchOptions,
    mut on_chunk: impl FnMut(&[u8]) -> Result<(), NetError>,
) -> Result<(), NetError> {
    let Some(stream) = response.body() else {
        return Ok(());
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream
        .get_reader()
        .dyn_into()
        .map_err(|_| NetError::Unavailable("no stream reader".into()))?;
    let mut buffer = Vec::new();
    loop {
        let result = JsFuture::from(reader.read())
            .await
            .map_err(|e| deadline.error(options.timeout_ms, &e))?;
        let done = js_sys::Reflect::get(&result, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(());
        }
        let Ok(value) = js_sys::Reflect::get(&result, &JsValue::from_str("value")) else {
            continue;
        };
        let Ok(bytes) = value.dyn_into::<js_sys::Uint8Array>() else {
            continue;
        };
        buffer.resize(bytes.length() as usize, 0);
        bytes.copy_to(&mut buffer);
        if let Err(error) = on_chunk(&buffer) {
            let _ = reader.cancel();
            return Err(error);
        }
    }
}

/// The browser's own timing of the latest request to `url` that started after
/// `since_ms` (Resource Timing): its duration in milliseconds, and whether the server
/// allowed detailed timing (`Timing-Allow-Origin`). `None` when the browser kept no
/// entry (a full buffer, or an old browser).
pub fn resource_timing(url: &str, since_ms: f64) -> Option<ResourceTiming> {
    let performance = web_sys::window()?.performance()?;
    let absolute = web_sys::Url::new_with_base(url, &super::base_href())
        .map(|u| u.href())
        .unwrap_or_else(|_| url.to_owned());
    let entries = performance.get_entries_by_name_with_entry_type(&absolute, "resource");
    let entry = entries
        .iter()
        .rev()
        .filter_map(|e| e.dyn_into::<web_sys::PerformanceResourceTiming>().ok())
        .find(|e| e.start_time() >= since_ms)?;
    Some(ResourceTiming {
        duration_ms: entry.duration(),
        detailed: entry.request_start() > 0.0,
    })
}

/// One request's Resource Timing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourceTiming {
    /// From the start of the fetch to the end of the response, milliseconds.
    pub duration_ms: f64,
    /// False when the server sent no `Timing-Allow-Origin`: the phases are hidden.
    pub detailed: bool,
}

thread_local! {
    /// The absolute URLs the dashboard itself fetched lately (newest last), so that
    /// real-user monitoring of the host page leaves them out.
    static OWN_REQUESTS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// URLs remembered as the dashboard's own.
const MAX_OWN_REQUESTS: usize = 512;

/// Remembers `url` as one the dashboard fetches itself.
pub fn note_own_request(url: &str) {
    let absolute = web_sys::Url::new_with_base(url, &super::base_href())
        .map(|u| u.href())
        .unwrap_or_else(|_| url.to_owned());
    OWN_REQUESTS.with_borrow_mut(|own| {
        if let Some(at) = own.iter().position(|other| *other == absolute) {
            own.remove(at);
        } else if own.len() == MAX_OWN_REQUESTS {
            own.remove(0);
        }
        own.push(absolute);
    });
}

/// Whether the dashboard fetched `url` itself.
pub fn is_own_request(url: &str) -> bool {
    OWN_REQUESTS.with_borrow(|own| own.iter().any(|other| other == url))
}

/// Watches the page's Resource Timing entries that finish from now on; stops when
/// dropped.
pub struct ResourceObserver {
    observer: web_sys::PerformanceObserver,
    _callback: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::PerformanceObserverEntryList)>,
}

impl ResourceObserver {
    /// Calls `on_entries` with each batch of new resource entries.
    pub fn start(
        mut on_entries: impl FnMut(Vec<crate::sources::rum::ResourceEntry>) + 'static,
    ) -> Result<ResourceObserver, String> {
        let since = super::performance_now();
        let callback = wasm_bindgen::closure::Closure::<
            dyn FnMut(web_sys::PerformanceObserverEntryList),
        >::new(move |list: web_sys::PerformanceObserverEntryList| {
            let entries = list
                .get_entries()
                .iter()
                .filter_map(|e| e.dyn_into::<web_sys::PerformanceResourceTiming>().ok())
                .filter(|e| e.start_time() >= since && !is_own_request(&e.name()))
                .map(|e| crate::sources::rum::ResourceEntry {
                    status: js_sys::Reflect::get(&e, &JsValue::from_str("responseStatus"))
                        .ok()
                        .and_then(|s| s.as_f64())
                        .map_or(0, |s| s as u16),
                    restricted: e.response_start() <= 0.0,
                    duration_ms: e.response_end() - e.start_time(),
                    initiator: e.initiator_type(),
                    url: e.name(),
                })
                .collect::<Vec<_>>();
            if !entries.is_empty() {
                on_entries(entries);
            }
        });
        let observer = web_sys::PerformanceObserver::new(callback.as_ref().unchecked_ref())
            .map_err(|e| {
                format!(
                    "this browser cannot observe resource timing: {}",
                    describe(&e)
                )
            })?;
        let options = web_sys::PerformanceObserverInit::new(&js_sys::Array::of1(
            &JsValue::from_str("resource"),
        ));
        observer.observe(&options);
        Ok(ResourceObserver {
            observer,
            _callback: callback,
        })
    }
}

impl Drop for ResourceObserver {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}
