//! The thin browser glue: clock, location, fetch, storage, title, downloads. Nothing
//! else in the crate touches web-sys directly, and every call here degrades to a
//! clear error instead of panicking when the browser refuses.

pub mod dom;
pub mod net;
pub mod storage;
pub mod streams;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Wall-clock time, Unix seconds.
pub fn now_seconds() -> f64 {
    js_sys::Date::now() / 1000.0
}

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// The location's hash, e.g. `#/modules/database`.
pub fn location_hash() -> String {
    window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// The page's address without its hash, for links back to the dashboard.
pub fn location_href() -> String {
    window()
        .and_then(|w| w.location().href().ok())
        .map(|href| href.split('#').next().unwrap_or("").to_owned())
        .unwrap_or_default()
}

/// The page's origin, e.g. `https://app.example.com`.
pub fn page_origin() -> String {
    window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The document's base URL, against which relative URLs resolve.
pub fn base_href() -> String {
    window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .unwrap_or_default()
}

/// A uniform random number in 0..1 (retry jitter; never used where replay matters).
pub fn random_unit() -> f64 {
    js_sys::Math::random()
}

/// A query parameter of the page URL, decoded.
pub fn query_param(name: &str) -> Option<String> {
    let search = window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get(name)
}

/// A query parameter read as a number by the browser (JavaScript's `Number`), which
/// spares the bundle Rust's decimal parser; `None` when absent or not a number.
pub fn query_number(name: &str) -> Option<f64> {
    let text = query_param(name)?;
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    // Unary plus on a string cannot throw; it gives NaN for anything but a number.
    Some(JsValue::from_str(text).unchecked_into_f64()).filter(|n| !n.is_nan())
}

/// Fetches a URL as text. The error says what went wrong in words a user can act on.
pub async fn fetch_text(url: &str) -> Result<FetchOutcome, String> {
    let window = window().ok_or("no browser window")?;
    net::note_own_request(url);
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| {
            format!(
                "could not fetch {url}: {} (network error, or blocked by CORS)",
                describe(&e)
            )
        })?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| format!("fetching {url} gave no response"))?;
    if response.status() == 404 {
        return Ok(FetchOutcome::NotFound);
    }
    if !response.ok() {
        return Err(format!(
            "fetching {url} failed: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let text = response.text().map_err(|e| describe(&e))?;
    let text = JsFuture::from(text).await.map_err(|e| describe(&e))?;
    Ok(FetchOutcome::Found(text.as_string().unwrap_or_default()))
}

/// What a fetch found.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchOutcome {
    /// The body.
    Found(String),
    /// HTTP 404.
    NotFound,
}

/// Reads a localStorage key; `None` when absent or when storage is unavailable.
pub fn storage_get(key: &str) -> Option<String> {
    window()?.local_storage().ok()??.get_item(key).ok()?
}

/// Writes a localStorage key; the error says why it could not be kept.
pub fn storage_set(key: &str, value: &str) -> Result<(), String> {
    let storage = window()
        .and_then(|w| w.local_storage().ok().flatten())
        .ok_or("localStorage is unavailable (private mode or disabled)")?;
    storage
        .set_item(key, value)
        .map_err(|e| format!("could not save to localStorage: {}", describe(&e)))
}

/// Removes a localStorage key.
pub fn storage_remove(key: &str) {
    if let Some(storage) = window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.remove_item(key);
    }
}

/// Sets the document title.
pub fn set_title(title: &str) {
    if let Some(document) = window().and_then(|w| w.document()) {
        document.set_title(title);
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/platform/alerts.js")]
extern "C" {
    fn notification_permission() -> String;
    fn request_notifications(done: &js_sys::Function);
    fn show_notification(title: &str, body: &str, tag: &str) -> bool;
    fn user_elsewhere() -> bool;
    fn set_favicon(href: &str);
    fn tone();
}

/// Desktop notifications: `granted`, `denied`, `default` (not asked yet) or
/// `unsupported`.
pub fn notifications_permission() -> String {
    notification_permission()
}

/// Asks the user (call from a click); `done` gets the answer.
pub fn ask_for_notifications(done: impl FnOnce(String) + 'static) {
    let callback = Closure::once_into_js(move |answer: JsValue| {
        done(answer.as_string().unwrap_or_else(|| "denied".to_owned()));
    });
    request_notifications(callback.unchecked_ref());
}

/// Shows a desktop notification; a newer one with the same `tag` replaces it.
pub fn notify(title: &str, body: &str, tag: &str) -> bool {
    show_notification(title, body, tag)
}

/// True when the page is hidden or another window has the focus.
pub fn user_is_elsewhere() -> bool {
    user_elsewhere()
}

/// Sets the page's icon.
pub fn favicon(href: &str) {
    set_favicon(href);
}

/// A short tone (for critical alerts, when the config asks for it).
pub fn play_tone() {
    tone();
}

/// Sets an attribute on the root `<html>` element (the theme).
pub fn set_root_attribute(name: &str, value: &str) {
    if let Some(root) = window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute(name, value);
    }
}

/// Offers `contents` as a file download.
pub fn download(filename: &str, mime: &str, contents: &str) -> Result<(), String> {
    let document = window().and_then(|w| w.document()).ok_or("no document")?;
    let parts = js_sys::Array::of1(&JsValue::from_str(contents));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|e| describe(&e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| describe(&e))?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| describe(&e))?
        .dyn_into()
        .map_err(|_| "could not create a link")?;
    anchor.set_href(&url);
    anchor.set_download(filename);
    anchor.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The text of the file chosen in the `<input type=file>` that fired `event`; `None`
/// when nothing was chosen.
pub async fn chosen_file_text(event: &web_sys::Event) -> Result<Option<String>, String> {
    let Some(input) = event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return Ok(None);
    };
    let Some(file) = input.files().and_then(|files| files.get(0)) else {
        return Ok(None);
    };
    // The same file can be chosen again after a fix.
    input.set_value("");
    if file.size() > 8.0 * 1024.0 * 1024.0 {
        return Err(format!(
            "{} is over 8 MiB: not a config document",
            file.name()
        ));
    }
    let text = JsFuture::from(file.text())
        .await
        .map_err(|e| format!("could not read {}: {}", file.name(), describe(&e)))?;
    Ok(text.as_string())
}

/// Device pixels per CSS pixel, for sharp canvases.
pub fn device_pixel_ratio() -> f64 {
    window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0)
}

/// True while the page is hidden (another tab): redraws are skipped then.
pub fn page_hidden() -> bool {
    window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// Leaves a named mark on the Performance timeline (browser measurements find ticks by it).
pub fn performance_mark(name: &str) {
    if let Some(performance) = window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// Milliseconds since the page started, for measuring work.
pub fn performance_now() -> f64 {
    window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// A JS error as text.
pub fn describe(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

/// Shows a fatal error (used by the panic hook), never a blank page: at the top of
/// `within` (an embedded dashboard's shadow root), or of the page's body.
pub fn show_fatal_error(message: &str, within: Option<&web_sys::ShadowRoot>) {
    let Some(document) = window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(panel) = document.create_element("div") else {
        return;
    };
    let _ = panel.set_attribute("class", "redline");
    panel.set_inner_html(
        "<div class=\"error-panel fatal\" data-testid=\"error-panel\" role=\"alert\">\
         <h2>redline stopped with an internal error</h2><pre></pre>\
         <p>Reload the page to start again. Please report this message: it is a bug.</p></div>",
    );
    if let Ok(Some(text)) = panel.query_selector("pre") {
        text.set_text_content(Some(message));
    }
    match within {
        Some(root) => {
            let _ = root.prepend_with_node_1(&panel);
        }
        None => {
            if let Some(body) = document.body() {
                let _ = body.prepend_with_node_1(&panel);
            }
        }
    }
}

/// A new element of the page's document.
pub fn create_html_element(tag: &str) -> Option<web_sys::HtmlElement> {
    window()?
        .document()?
        .create_element(tag)
        .ok()?
        .dyn_into::<web_sys::HtmlElement>()
        .ok()
}

/// True on the app's own page (`index.html` marks its body `data-redline-app`); a page
/// that only embeds dashboards has no such mark.
pub fn is_app_page() -> bool {
    window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
        .is_some_and(|body| body.has_attribute("data-redline-app"))
}

/// True when the user's system asks for a dark colour scheme.
pub fn prefers_dark() -> bool {
    window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|query| query.matches())
}

/// Reloads the page (after a config change, the app starts afresh with it).
pub fn reload() {
    if let Some(window) = window() {
        let _ = window.location().reload();
    }
}

/// The `#/...` target of a plain click on a link inside the dashboard, if it was one.
pub fn clicked_hash_link(event: &web_sys::MouseEvent) -> Option<String> {
    if event.default_prevented()
        || event.button() != 0
        || event.ctrl_key()
        || event.meta_key()
        || event.shift_key()
        || event.alt_key()
    {
        return None;
    }
    let target = event.target()?.dyn_into::<web_sys::Element>().ok()?;
    let link = target.closest("a[href^='#/']").ok()??;
    link.get_attribute("href")
}

/// Bytes of the WebAssembly linear memory (the Rust heap lives there).
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map_or(0.0, |memory| {
            memory
                .buffer()
                .dyn_into::<js_sys::ArrayBuffer>()
                .map_or(0.0, |buffer| f64::from(buffer.byte_length()))
        })
}
