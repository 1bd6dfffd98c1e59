//! Sends alert transitions to the config's webhooks: one task per webhook, draining its
//! queue (`webhook::WebhookQueue`) with retries, while the alert hook fills it.
//!
//! A webhook from an untrusted config (a `?config=` link) starts off, and only the
//! user's "Allow" in the webhooks panel switches it on; the allowed endpoints are
//! remembered in localStorage on the app's own page.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::platform::{self, net};
use crate::webhook::{WebhookCounts, WebhookKind, WebhookQueue, WebhookSettings};

/// localStorage key of the endpoints the user allowed.
pub const ALLOWED_KEY: &str = "redline.webhooks.allowed";

/// What the webhooks panel shows of one webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookStatus {
    /// From the config.
    pub name: String,
    /// `json` or `alertmanager`.
    pub kind: WebhookKind,
    /// Where it POSTs.
    pub endpoint: String,
    /// Off until allowed (configs from links).
    pub enabled: bool,
    /// Delivered, failed attempts, dropped.
    pub counts: WebhookCounts,
    /// Deliveries waiting.
    pub waiting: usize,
    /// The last failure, in words.
    pub last_error: Option<String>,
}

/// One webhook's queue and switch, shared by its task, the alert hook and the panel.
pub struct Runner {
    queue: WebhookQueue,
    enabled: bool,
    last_error: Option<String>,
}

/// The runners of one dashboard.
pub type Runners = Vec<Rc<RefCell<Runner>>>;

impl Runner {
    /// The panel's view of it.
    pub fn status(&self) -> WebhookStatus {
        let settings = self.queue.settings();
        WebhookStatus {
            name: settings.name.clone(),
            kind: settings.kind,
            endpoint: settings.endpoint(),
            enabled: self.enabled,
            counts: self.queue.counts,
            waiting: self.queue.waiting(),
            last_error: self.last_error.clone(),
        }
    }

    /// Switches it on (the user allowed it).
    pub fn enable(&mut self) {
        self.enabled = true;
    }

    /// Queues what a tick's transitions mean for this webhook.
    pub fn push(&mut self, events: &[crate::monitor::AlertEvent]) {
        self.queue.push_events(events, platform::now_seconds());
    }
}

/// `event` with its times mapped by `to_wall` (monitor time to wall-clock time).
pub fn on_wall_clock(
    event: &crate::monitor::AlertEvent,
    to_wall: impl Fn(f64) -> f64,
) -> crate::monitor::AlertEvent {
    let mut event = event.clone();
    event.at = to_wall(event.at);
    let alert = &mut event.alert;
    alert.pending_since = to_wall(alert.pending_since);
    alert.firing_since = alert.firing_since.map(&to_wall);
    alert.ended_at = alert.ended_at.map(&to_wall);
    alert.clearing_since = alert.clearing_since.map(&to_wall);
    event
}

/// Starts one task per webhook; `trusted` configs start them on, others only those
/// whose endpoint the user allowed before. They stop when `alive` turns false.
pub fn start_all(
    webhooks: &[WebhookSettings],
    trusted: bool,
    remember: bool,
    alive: Arc<AtomicBool>,
) -> Runners {
    let allowed = if remember {
        allowed_endpoints()
    } else {
        Vec::new()
    };
    let dashboard_url = platform::location_href();
    webhooks
        .iter()
        .map(|settings| {
            let enabled = trusted || allowed.contains(&settings.endpoint());
            let runner = Rc::new(RefCell::new(Runner {
                queue: WebhookQueue::new(settings.clone(), &dashboard_url),
                enabled,
                last_error: None,
            }));
            let task = Rc::clone(&runner);
            let alive = Arc::clone(&alive);
            leptos::task::spawn_local(async move {
                while alive.load(Ordering::Relaxed) {
                    drain(&task).await;
                    gloo_timers::future::TimeoutFuture::new(500).await;
                }
            });
            runner
        })
        .collect()
}

/// Sends what is due, oldest first, until a failure (which waits for its backoff).
async fn drain(runner: &Rc<RefCell<Runner>>) {
    loop {
        let now = platform::now_seconds();
        let (body, endpoint, timeout_ms) = {
            let mut runner = runner.borrow_mut();
            if !runner.enabled {
                return;
            }
            runner.queue.resend_due(now);
            let Some(delivery) = runner.queue.next_due(now) else {
                return;
            };
            let settings = runner.queue.settings();
            (
                delivery.body.clone(),
                settings.endpoint(),
                (settings.timeout_seconds * 1000.0) as u32,
            )
        };
        let options = net::FetchOptions {
            timeout_ms,
            max_bytes: 64 << 10,
            read_body: true,
            post_json: Some(body),
            ..net::FetchOptions::default()
        };
        let outcome = match net::fetch(&endpoint, &options).await {
            Ok(reply) if (200..300).contains(&reply.status) => Ok(()),
            Ok(reply) => Err(format!(
                "{endpoint} answered HTTP {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )),
            Err(error) => Err(format!(
                "{error} (a receiver on another origin must allow this page by CORS)"
            )),
        };
        let mut runner = runner.borrow_mut();
        match outcome {
            Ok(()) => {
                runner.queue.delivered();
                runner.last_error = None;
            }
            Err(reason) => {
                runner
                    .queue
                    .failed(platform::now_seconds(), platform::random_unit());
                runner.last_error = Some(reason);
                return;
            }
        }
    }
}

/// The endpoints the user allowed before, from localStorage.
fn allowed_endpoints() -> Vec<String> {
    platform::storage_get(ALLOWED_KEY)
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Remembers that the user allowed `endpoint`.
pub fn remember_allowed(endpoint: &str) {
    let mut allowed = allowed_endpoints();
    if !allowed.iter().any(|e| e == endpoint) {
        allowed.push(endpoint.to_owned());
        if let Ok(json) = serde_json::to_string(&allowed) {
            let _ = platform::storage_set(ALLOWED_KEY, &json);
        }
    }
}
