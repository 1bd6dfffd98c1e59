//! What other pages call: `mount(element, config)` and the `<redline-dashboard>`
//! element from the built bundle, with the JS API on the handle they return; and, for
//! Rust hosts, the `Dashboard` and `MonitorScope` Leptos components.
//!
//! Each dashboard is its own instance: its own monitor, config, theme and view route,
//! in a shadow root (or, as a Leptos component, under one `.redline` element) whose
//! styles neither leak out nor let the host's in. The host's title, hash and
//! localStorage are never touched. `record()` batches in JavaScript (`embed.js`) and
//! crosses into WebAssembly once per task.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::app::{ConfigGate, system_theme};
use crate::config::{AppConfig, ConfigProblem};
use crate::monitor::{AlertEvent, ModuleId, ModuleSource, PerformanceMonitor, RecordError};
use crate::platform::{self, FetchOutcome};
use crate::state::{AppState, Embedding, Placement};

/// The dashboard's stylesheet, scoped under `.redline` (adopted, never a global sheet).
pub const STYLESHEET: &str = include_str!("../style/redline.css");

#[wasm_bindgen(module = "/src/embed.js")]
extern "C" {
    fn adopt_styles(root: &JsValue, css: &str);
    fn wrap_handle(inner: EmbeddedDashboard) -> JsValue;
    fn define_element(mount: &JsValue);
    fn call_later(callback: &js_sys::Function, value: &JsValue);
}

/// Records waiting for a config that is still loading (values: 3 per record).
const MAX_PENDING_VALUES: usize = 3 * 100_000;
/// Names one handle may intern (the monitor's own cap applies as well).
const MAX_NAMES: usize = 100_000;
/// The longest `monitorModules` wait, seconds.
const MAX_WATCH_SECONDS: f64 = 86_400.0;

/// Adopts the stylesheet into the page (for the app and Rust hosts).
pub fn adopt_page_styles() {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        adopt_styles(&document, STYLESHEET);
    }
}

/// Defines `<redline-dashboard>`; the app's entry point calls it once.
pub fn define_custom_element() {
    let mount = Closure::<dyn Fn(web_sys::Element, JsValue) -> JsValue>::new(
        |element: web_sys::Element, config: JsValue| match start(&element, &config, false) {
            Ok(handle) => handle,
            Err(message) => {
                leptos::logging::error!("<redline-dashboard>: {message}");
                JsValue::NULL
            }
        },
    );
    define_element(mount.as_ref());
    // The element class keeps it for the page's life.
    mount.forget();
}

/// Mounts a dashboard into `element` (in a shadow root) and returns its handle:
/// `record(module, latency, ok)`, `snapshot()`, `on("alert", fn)`,
/// `monitorModules(modules, seconds)`, `status()` and `unmount()`.
///
/// `config` is the config document as an object or JSON text, a URL to fetch it from,
/// or nothing for the defaults. A document given inline that is invalid throws an
/// Error saying what is wrong; one fetched from a URL shows its problem in place.
#[wasm_bindgen]
pub fn mount(element: web_sys::Element, config: JsValue) -> Result<JsValue, JsError> {
    start(&element, &config, true).map_err(|message| JsError::new(&message))
}

/// Where a config comes from.
enum ConfigArgument {
    Inline(String),
    Url(String),
    Defaults,
}

fn config_argument(config: &JsValue) -> Result<ConfigArgument, String> {
    if config.is_undefined() || config.is_null() {
        return Ok(ConfigArgument::Defaults);
    }
    if let Some(text) = config.as_string() {
        let trimmed = text.trim();
        return Ok(if trimmed.is_empty() {
            ConfigArgument::Defaults
        } else if trimmed.starts_with('{') {
            ConfigArgument::Inline(text)
        } else {
            ConfigArgument::Url(trimmed.to_owned())
        });
    }
    if config.is_object() {
        return js_sys::JSON::stringify(config)
            .ok()
            .and_then(|json| json.as_string())
            .map(ConfigArgument::Inline)
            .ok_or_else(|| "the config object could not be turned into JSON".to_owned());
    }
    Err("the config must be an object, JSON text, a URL, or left out for the defaults".into())
}

/// Mounts an instance; `strict` turns an invalid inline config into an error.
fn start(element: &web_sys::Element, config: &JsValue, strict: bool) -> Result<JsValue, String> {
    let argument = config_argument(config);
    // The signals outside the mounted view live in their own owner, cleaned up on
    // unmount.
    let owner = Owner::new();
    let loaded = owner.with(|| RwSignal::new(None::<Result<AppConfig, ConfigProblem>>));
    let url = match argument {
        Ok(ConfigArgument::Defaults) => {
            loaded.set(Some(Ok(AppConfig::defaults())));
            None
        }
        Ok(ConfigArgument::Inline(json)) => {
            let parsed = AppConfig::parse(&json, "the mount() config");
            if strict && let Err(problem) = &parsed {
                return Err(format!("redline config: {}", problem.message));
            }
            loaded.set(Some(parsed));
            None
        }
        Ok(ConfigArgument::Url(url)) => Some(url),
        Err(message) if strict => return Err(format!("redline: {message}")),
        Err(message) => {
            loaded.set(Some(Err(ConfigProblem {
                origin: "the config attribute".to_owned(),
                message,
            })));
            None
        }
    };
    let shadow = shadow_root(element)?;
    adopt_styles(&shadow, STYLESHEET);
    let root = platform::create_html_element("div")
        .ok_or_else(|| "could not create the dashboard's element".to_owned())?;
    let theme = match element.get_attribute("theme").as_deref() {
        Some("dark") => "dark",
        Some("light") => "light",
        _ => system_theme(),
    };
    let _ = root.set_attribute("class", "redline embedded-root");
    shadow
        .append_child(&root)
        .map_err(|error| platform::describe(&error))?;

    let instance = Rc::new(Instance::new(shadow));
    let weak = Rc::downgrade(&instance);
    let placement = Placement::Embedded(Rc::new(Embedding {
        started: Box::new({
            let weak = weak.clone();
            move |state| {
                if let Some(instance) = weak.upgrade() {
                    instance.attach(state, &weak);
                }
            }
        }),
        restart: Box::new(move |config| {
            let _ = loaded.try_set(Some(Ok(config)));
        }),
    }));
    let theme_signal = owner.with(|| RwSignal::new(theme.to_owned()));
    let mounted = mount_to(root.clone(), move || {
        let theme = theme_signal;
        Effect::new(move |_| {
            let _ = root.set_attribute("data-theme", &theme.get());
        });
        view! { <ConfigGate loaded=loaded theme=theme placement=placement /> }
    });
    *instance.mounted.borrow_mut() = Some(Box::new(mounted));
    *instance.owner.borrow_mut() = Some(owner);
    if let Some(url) = url {
        leptos::task::spawn_local(async move {
            let result = match platform::fetch_text(&url).await {
                Ok(FetchOutcome::Found(text)) => AppConfig::parse(&text, &url),
                Ok(FetchOutcome::NotFound) => Err(ConfigProblem {
                    origin: url.clone(),
                    message: "not found (HTTP 404); check the config URL".to_owned(),
                }),
                Err(message) => Err(ConfigProblem {
                    origin: url.clone(),
                    message,
                }),
            };
            if let Err(problem) = &result {
                leptos::logging::error!(
                    "redline config from {}: {}",
                    problem.origin,
                    problem.message
                );
            }
            let _ = loaded.try_set(Some(result));
        });
    }
    LIVE.with_borrow_mut(|live| {
        live.retain(|other| other.strong_count() > 0);
        live.push(weak);
    });
    Ok(wrap_handle(EmbeddedDashboard {
        instance: Some(instance),
    }))
}

/// The element's open shadow root, emptied, or a new one.
fn shadow_root(element: &web_sys::Element) -> Result<web_sys::ShadowRoot, String> {
    if let Some(shadow) = element.shadow_root() {
        shadow.set_inner_html("");
        return Ok(shadow);
    }
    element
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .map_err(|_| {
            format!(
                "cannot mount into <{}>: use an element that can hold a shadow root, such as a <div>",
                element.tag_name().to_lowercase()
            )
        })
}

thread_local! {
    /// The mounted instances, for the panic hook's error panel.
    static LIVE: RefCell<Vec<Weak<Instance>>> = const { RefCell::new(Vec::new()) };
}

/// Shows a fatal error in every embedded dashboard, or on the app's page when there
/// are none. A panic stops the WebAssembly instance, so every dashboard on the page
/// says so instead of freezing silently.
pub fn show_fatal_error(message: &str) {
    let roots: Vec<web_sys::ShadowRoot> = LIVE.with_borrow(|live| {
        live.iter()
            .filter_map(Weak::upgrade)
            .map(|instance| instance.shadow.clone())
            .collect()
    });
    if roots.is_empty() {
        platform::show_fatal_error(message, None);
    }
    for root in roots {
        root.set_inner_html("");
        platform::show_fatal_error(message, Some(&root));
    }
}

/// One mounted dashboard.
struct Instance {
    shadow: web_sys::ShadowRoot,
    /// The running dashboard's state (absent while the config loads, or if it is broken).
    state: Cell<Option<AppState>>,
    /// Interned names, by the ids handed to JavaScript.
    names: RefCell<Vec<String>>,
    /// The monitor's id for each interned name, for the current state.
    ids: RefCell<Vec<Option<ModuleId>>>,
    /// Records made before the dashboard started.
    pending: RefCell<Vec<f64>>,
    counts: Cell<HandleCounts>,
    listeners: RefCell<Vec<(u32, js_sys::Function)>>,
    next_listener: Cell<u32>,
    hook: Cell<Option<u32>>,
    /// The mounted view; dropping it unmounts it and disposes of its reactive graph.
    mounted: RefCell<Option<Box<dyn std::any::Any>>>,
    /// Owns the config and theme signals.
    owner: RefCell<Option<Owner>>,
}

/// What a handle refused or dropped, so nothing is lost silently.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
struct HandleCounts {
    recorded: u64,
    refused_names: u64,
    refused_records: u64,
    dropped_while_loading: u64,
}

impl Instance {
    fn new(shadow: web_sys::ShadowRoot) -> Instance {
        Instance {
            shadow,
            state: Cell::new(None),
            names: RefCell::new(Vec::new()),
            ids: RefCell::new(Vec::new()),
            pending: RefCell::new(Vec::new()),
            counts: Cell::new(HandleCounts::default()),
            listeners: RefCell::new(Vec::new()),
            next_listener: Cell::new(1),
            hook: Cell::new(None),
            mounted: RefCell::new(None),
            owner: RefCell::new(None),
        }
    }

    fn count(&self, change: impl FnOnce(&mut HandleCounts)) {
        let mut counts = self.counts.get();
        change(&mut counts);
        self.counts.set(counts);
    }

    /// A (re)started dashboard: ids are looked up afresh, waiting records go in, and
    /// alert listeners are attached.
    fn attach(&self, state: AppState, weak: &Weak<Instance>) {
        self.state.set(Some(state));
        self.ids.borrow_mut().iter_mut().for_each(|id| *id = None);
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        self.record_values(&pending);
        let weak = weak.clone();
        let hook = state.add_alert_hook(Box::new(move |events| {
            if let Some(instance) = weak.upgrade() {
                instance.emit(events);
            }
        }));
        self.hook.set(Some(hook));
    }

    fn emit(&self, events: &[AlertEvent]) {
        let listeners = self.listeners.borrow();
        if listeners.is_empty() {
            return;
        }
        for event in events {
            let Some(value) = to_js(event) else {
                continue;
            };
            for (_, listener) in listeners.iter() {
                call_later(listener, &value);
            }
        }
    }

    fn record_values(&self, values: &[f64]) {
        let Some(state) = self.state.get() else {
            let mut pending = self.pending.borrow_mut();
            let room = MAX_PENDING_VALUES.saturating_sub(pending.len());
            let kept = values.len().min(room) / 3 * 3;
            pending.extend_from_slice(&values[..kept]);
            let dropped = (values.len() - kept) / 3;
            if dropped > 0 {
                self.count(|c| c.dropped_while_loading += dropped as u64);
            }
            return;
        };
        let names = self.names.borrow();
        let mut ids = self.ids.borrow_mut();
        let (mut recorded, mut refused) = (0u64, 0u64);
        state.engine.update_value(|engine| {
            let now = engine.now(platform::now_seconds());
            let monitor = engine.monitor_mut();
            for triple in values.chunks_exact(3) {
                let index = triple[0] as usize;
                let (Some(name), Some(slot)) = (names.get(index), ids.get_mut(index)) else {
                    refused += 1;
                    continue;
                };
                let id = match *slot {
                    Some(id) => id,
                    None => match host_module(monitor, name, now) {
                        Ok(id) => *slot.insert(id),
                        Err(_) => {
                            refused += 1;
                            continue;
                        }
                    },
                };
                match monitor.record_id(id, triple[1], triple[2] != 0.0, now) {
                    Ok(()) => recorded += 1,
                    Err(_) => refused += 1,
                }
            }
        });
        self.count(|c| {
            c.recorded += recorded;
            c.refused_records += refused;
        });
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let (Some(state), Some(hook)) = (self.state.get(), self.hook.get()) {
            state.remove_alert_hook(hook);
        }
    }
}

/// A module the host page records into: an existing one keeps its source, a new one
/// is listed as the host's.
fn host_module(
    monitor: &mut PerformanceMonitor,
    name: &str,
    now: f64,
) -> Result<ModuleId, RecordError> {
    if monitor.module(name).is_some() {
        monitor.module_id(name, now)
    } else {
        monitor.register(name, ModuleSource::Host, now)
    }
}

/// A value as a JS object, through JSON (serde-wasm-bindgen would add to the bundle).
fn to_js(value: &impl serde::Serialize) -> Option<JsValue> {
    let json = serde_json::to_string(value).ok()?;
    js_sys::JSON::parse(&json).ok()
}

/// The wasm side of a mounted dashboard's handle; JavaScript wraps it (`embed.js`).
#[wasm_bindgen]
pub struct EmbeddedDashboard {
    instance: Option<Rc<Instance>>,
}

impl EmbeddedDashboard {
    fn instance(&self) -> Result<&Rc<Instance>, JsError> {
        self.instance
            .as_ref()
            .ok_or_else(|| JsError::new("redline: this dashboard was unmounted"))
    }
}

#[wasm_bindgen]
impl EmbeddedDashboard {
    /// An id for a module name, or -1 when the name is refused (empty, too long, or
    /// with control characters) or the handle has too many names.
    pub fn intern(&self, name: String) -> Result<i32, JsError> {
        let instance = self.instance()?;
        let valid = !name.is_empty()
            && name.len() <= crate::monitor::MAX_MODULE_NAME_BYTES
            && !name.chars().any(char::is_control);
        let mut names = instance.names.borrow_mut();
        if !valid || names.len() >= MAX_NAMES {
            instance.count(|c| c.refused_names += 1);
            return Ok(-1);
        }
        // embed.js asks once per name; a name asked twice gets a second id for the
        // same module, which records the same.
        names.push(name);
        instance.ids.borrow_mut().push(None);
        Ok(names.len() as i32 - 1)
    }

    /// Records (id, latency seconds, ok as 1 or 0) triples.
    pub fn record_batch(&self, values: &[f64]) -> Result<(), JsError> {
        self.instance()?.record_values(values);
        Ok(())
    }

    /// The dashboard JSON of the last closed tick, or null while the config loads.
    pub fn snapshot(&self) -> Result<JsValue, JsError> {
        let instance = self.instance()?;
        let snapshot = instance
            .state
            .get()
            .and_then(|state| state.engine.try_with_value(|engine| engine.snapshot()));
        Ok(snapshot
            .and_then(|snapshot| to_js(&*snapshot))
            .unwrap_or(JsValue::NULL))
    }

    /// Adds a listener for `event` ("alert": every alert transition); returns its id.
    pub fn on(&self, event: String, callback: js_sys::Function) -> Result<u32, JsError> {
        let instance = self.instance()?;
        if event != "alert" {
            return Err(JsError::new(&format!(
                "redline: unknown event {event:?}; the dashboard sends \"alert\""
            )));
        }
        let id = instance.next_listener.get();
        instance.next_listener.set(id + 1);
        instance.listeners.borrow_mut().push((id, callback));
        Ok(id)
    }

    /// Removes a listener added by `on`.
    pub fn off(&self, id: u32) -> Result<(), JsError> {
        self.instance()?
            .listeners
            .borrow_mut()
            .retain(|(other, _)| *other != id);
        Ok(())
    }

    /// Counts of what this handle recorded, refused or dropped.
    pub fn status(&self) -> Result<JsValue, JsError> {
        Ok(to_js(&self.instance()?.counts.get()).unwrap_or(JsValue::NULL))
    }

    /// The spec's `monitor_modules`: watches `modules` (added to the simulation when
    /// it runs, else listed until records arrive) for `duration_seconds`, then
    /// resolves to the dashboard JSON.
    pub fn monitor_modules(
        &self,
        modules: Vec<String>,
        duration_seconds: f64,
    ) -> Result<js_sys::Promise, JsError> {
        let instance = Rc::downgrade(self.instance()?);
        if !(duration_seconds.is_finite() && (0.0..=MAX_WATCH_SECONDS).contains(&duration_seconds))
        {
            return Err(JsError::new(&format!(
                "redline: monitorModules needs a duration from 0 to {MAX_WATCH_SECONDS} seconds, not {duration_seconds}"
            )));
        }
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let unmounted =
                || JsValue::from(js_sys::Error::new("redline: the dashboard was unmounted"));
            let state = wait_for_state(&instance).await?;
            let names: Vec<&str> = modules.iter().map(String::as_str).collect();
            let watched = state
                .engine
                .try_update_value(|engine| engine.watch(&names, platform::now_seconds()))
                .ok_or_else(unmounted)?;
            if let Err(message) = watched {
                return Err(js_sys::Error::new(&format!("redline: {message}")).into());
            }
            gloo_timers::future::sleep(std::time::Duration::from_secs_f64(duration_seconds)).await;
            let instance = instance.upgrade().ok_or_else(unmounted)?;
            let state = instance.state.get().ok_or_else(unmounted)?;
            let snapshot = state
                .engine
                .try_with_value(|engine| engine.snapshot())
                .ok_or_else(unmounted)?;
            Ok(to_js(&*snapshot).unwrap_or(JsValue::NULL))
        }))
    }

    /// Stops and removes the dashboard; the handle cannot be used afterwards.
    pub fn unmount(&mut self) {
        if let Some(instance) = self.instance.take() {
            if let (Some(state), Some(hook)) = (instance.state.take(), instance.hook.take()) {
                state.remove_alert_hook(hook);
            }
            instance.listeners.borrow_mut().clear();
            drop(instance.mounted.borrow_mut().take());
            if let Some(owner) = instance.owner.borrow_mut().take() {
                owner.cleanup();
            }
            instance.shadow.set_inner_html("");
        }
    }
}

/// The dashboard's state once its config has loaded (up to 30 s).
async fn wait_for_state(instance: &Weak<Instance>) -> Result<AppState, JsValue> {
    for _ in 0..600 {
        let Some(strong) = instance.upgrade() else {
            break;
        };
        if let Some(state) = strong.state.get() {
            return Ok(state);
        }
        drop(strong);
        gloo_timers::future::sleep(std::time::Duration::from_millis(50)).await;
    }
    Err(js_sys::Error::new(
        "redline: the dashboard has no running config (unmounted, still loading after 30 s, or the config is broken)",
    )
    .into())
}

/// The whole dashboard, for Leptos apps: `<Dashboard config=config />`. It starts its
/// own monitor with `config` (the same document as `redline.json`), adopts its scoped
/// stylesheet, and leaves the page's title, hash and storage alone.
#[component]
pub fn Dashboard(
    /// The config document.
    #[prop(into)]
    config: AppConfig,
) -> impl IntoView {
    adopt_page_styles();
    let loaded = RwSignal::new(Some(Ok(config)));
    let theme = RwSignal::new(system_theme().to_owned());
    let placement = Placement::Embedded(Rc::new(Embedding {
        started: Box::new(|_| {}),
        restart: Box::new(move |config| {
            let _ = loaded.try_set(Some(Ok(config)));
        }),
    }));
    view! {
        <div class="redline" data-theme=move || theme.get()>
            <ConfigGate loaded=loaded theme=theme placement=placement />
        </div>
    }
}

/// A monitor without the dashboard's frame, for Leptos apps that place the smaller
/// components themselves: `<MonitorScope config=config><ModuleTable /><AlertList />
/// </MonitorScope>`. `use_monitor()` inside it records the app's own measurements.
#[component]
pub fn MonitorScope(
    /// The config document.
    #[prop(into)]
    config: AppConfig,
    /// The components to show.
    children: Children,
) -> impl IntoView {
    adopt_page_styles();
    let theme = RwSignal::new(system_theme().to_owned());
    let placement = Placement::Embedded(Rc::new(Embedding {
        started: Box::new(|_| {}),
        restart: Box::new(|_| {}),
    }));
    let state = AppState::start(config, None, placement, theme);
    // Module links change the scope's route (for a chart that follows it), never the
    // host's hash.
    let follow_link = move |event: leptos::ev::MouseEvent| {
        if let Some(href) = platform::clicked_hash_link(&event) {
            event.prevent_default();
            state.route.set(crate::route::Route::parse(&href));
        }
    };
    view! {
        <div class="redline scope" data-theme=move || theme.get() on:click=follow_link>
            {children()}
        </div>
    }
}

/// Records into the monitor of the enclosing `MonitorScope` or `Dashboard`.
#[derive(Clone, Copy)]
pub struct MonitorHandle {
    state: AppState,
}

/// The enclosing monitor, for recording from a Leptos app.
pub fn use_monitor() -> MonitorHandle {
    MonitorHandle {
        state: crate::state::use_app(),
    }
}

impl MonitorHandle {
    /// Records one finished request (latency in seconds) now. A refused record (a bad
    /// value, or a new module past the cap) is counted by the monitor and returned.
    pub fn record(&self, module: &str, latency_seconds: f64, ok: bool) -> Result<(), RecordError> {
        self.state
            .engine
            .try_update_value(|engine| {
                let now = engine.now(platform::now_seconds());
                let monitor = engine.monitor_mut();
                let id = host_module(monitor, module, now)?;
                monitor.record_id(id, latency_seconds, ok, now)
            })
            .unwrap_or(Ok(()))
    }
}
