//! Real-user monitoring of the host page: its own network calls, as the browser's
//! Resource Timing entries report them, grouped into modules by host and path prefix.
//!
//! The browser reports every resource's total duration, but hides the rest from a
//! cross-origin resource whose server does not send `Timing-Allow-Origin`: the
//! phases, and (unless CORS allowed the response) the HTTP status. Such requests
//! still count, with their duration; their status is never guessed: they are counted
//! as status unknown, and the source's note names the modules concerned.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::probe::ExpectedStatus;

/// The `rum` source: which of the page's requests to watch and how to group them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RumSettings {
    /// Shown in the sources panel; unique.
    pub name: String,
    /// Resource Timing initiator types to watch (`fetch`, `xmlhttprequest`, `beacon`,
    /// `script`, `img`, ...).
    pub initiators: Vec<String>,
    /// Path segments that name a module after the host: with 2, `/api/users/7` is
    /// `/api/users`. Segments that look like ids (digits, UUIDs, long hex) read `:id`.
    pub path_segments: usize,
    /// Explicit modules by URL prefix (`https://api.example.com/search` or `/api/search`);
    /// the longest matching prefix wins over the grouping by path.
    pub modules: Vec<RumModule>,
    /// Statuses that count as errors (a range such as `500-599`). A same-origin request
    /// that got no response at all (status 0) is an error too.
    pub error_statuses: String,
    /// Most modules this source creates; requests for more are counted and skipped.
    pub max_modules: usize,
}

impl Default for RumSettings {
    fn default() -> Self {
        RumSettings {
            name: "page".to_owned(),
            initiators: vec!["fetch".into(), "xmlhttprequest".into(), "beacon".into()],
            path_segments: 2,
            modules: Vec::new(),
            error_statuses: "500-599".to_owned(),
            max_modules: 100,
        }
    }
}

/// One explicit module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RumModule {
    /// The module's name.
    pub module: String,
    /// A URL prefix: absolute, or a path on the page's own origin.
    pub prefix: String,
}

impl RumSettings {
    /// Checks the settings; the message names the field.
    pub fn check(&self) -> Result<(), String> {
        if self.initiators.is_empty() {
            return Err("initiators is empty: list at least one, such as \"fetch\"".into());
        }
        if !(1..=10_000).contains(&self.max_modules) {
            return Err("max_modules must be 1 to 10000".into());
        }
        if self.path_segments > 8 {
            return Err("path_segments must be 0 to 8".into());
        }
        ExpectedStatus::parse(&self.error_statuses).map_err(|e| format!("error_statuses: {e}"))?;
        for (i, module) in self.modules.iter().enumerate() {
            if module.module.trim().is_empty() || module.prefix.trim().is_empty() {
                return Err(format!("modules[{i}]: module and prefix are both needed"));
            }
        }
        Ok(())
    }
}

/// A Resource Timing entry, as the feeder reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceEntry {
    /// The resource's absolute URL.
    pub url: String,
    /// `fetch`, `xmlhttprequest`, `script`, ...
    pub initiator: String,
    /// `responseEnd - startTime`, milliseconds.
    pub duration_ms: f64,
    /// The HTTP status when the browser exposes it, else 0.
    pub status: u16,
    /// `responseStart` is 0: the server did not allow detailed timing
    /// (`Timing-Allow-Origin`), so only the total duration is known.
    pub restricted: bool,
}

/// What to do with one entry.
#[derive(Debug, Clone, PartialEq)]
pub enum RumVerdict {
    /// Record a request of `module`.
    Record {
        /// The module it belongs to.
        module: String,
        /// Seconds.
        latency_seconds: f64,
        /// Ok or error; `None` when the browser hides the status.
        ok: Option<bool>,
        /// Only the total duration was available.
        restricted: bool,
    },
    /// Not watched: another initiator, or not a URL this source groups.
    Ignored,
    /// Watched, but the entry's numbers make no sense (counted).
    Invalid,
    /// A new module past `max_modules` (counted).
    OverCap,
}

/// Groups the page's resource entries into modules.
#[derive(Debug, Clone)]
pub struct RumGrouper {
    settings: RumSettings,
    errors: ExpectedStatus,
    /// `scheme://host[:port]` of the page.
    page_origin: String,
    /// Explicit prefixes made absolute, longest first.
    prefixes: Vec<(String, String)>,
    /// Modules made so far, with whether any of their requests were restricted.
    modules: HashMap<String, bool>,
}

impl RumGrouper {
    /// A grouper for a page at `page_origin` (`https://app.example.com`).
    pub fn new(settings: RumSettings, page_origin: &str) -> RumGrouper {
        let page_origin = page_origin.trim_end_matches('/').to_owned();
        let mut prefixes: Vec<(String, String)> = settings
            .modules
            .iter()
            .map(|m| {
                let prefix = if m.prefix.starts_with('/') {
                    format!("{page_origin}{}", m.prefix)
                } else {
                    m.prefix.clone()
                };
                (prefix, m.module.clone())
            })
            .collect();
        crate::sort::sort_by(&mut prefixes, |(a, _), (b, _)| b.len().cmp(&a.len()));
        let errors = ExpectedStatus::parse(&settings.error_statuses)
            .unwrap_or(ExpectedStatus { min: 500, max: 599 });
        RumGrouper {
            settings,
            errors,
            page_origin,
            prefixes,
            modules: HashMap::new(),
        }
    }

    /// The module a URL belongs to, if this source groups it.
    pub fn module_of(&self, url: &str) -> Option<String> {
        if let Some((_, module)) = self.prefixes.iter().find(|(p, _)| url.starts_with(p)) {
            return Some(module.clone());
        }
        let (origin, path) = split_url(url)?;
        let mut name = if origin == self.page_origin {
            String::new()
        } else {
            origin
                .split_once("://")
                .map_or(origin, |(_, host)| host)
                .to_owned()
        };
        let segments = path
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .split('/')
            .filter(|s| !s.is_empty())
            .take(self.settings.path_segments);
        for segment in segments {
            name.push('/');
            name.push_str(if looks_like_id(segment) {
                ":id"
            } else {
                segment
            });
        }
        if name.is_empty() {
            name.push('/');
        }
        Some(name)
    }

    /// Classifies one entry.
    pub fn classify(&mut self, entry: &ResourceEntry) -> RumVerdict {
        if !self.settings.initiators.contains(&entry.initiator) {
            return RumVerdict::Ignored;
        }
        let Some(module) = self.module_of(&entry.url) else {
            return RumVerdict::Ignored;
        };
        if !(entry.duration_ms.is_finite() && entry.duration_ms >= 0.0) {
            return RumVerdict::Invalid;
        }
        let same_origin = entry.url.starts_with(&self.page_origin)
            && entry.url[self.page_origin.len()..].starts_with(['/', '?', '#']);
        let ok = match entry.status {
            0 if same_origin => Some(false),
            0 => None,
            status => Some(!self.errors.accepts(status)),
        };
        if !self.modules.contains_key(&module) && self.modules.len() >= self.settings.max_modules {
            return RumVerdict::OverCap;
        }
        let restricted = self.modules.entry(module.clone()).or_insert(false);
        *restricted |= entry.restricted;
        RumVerdict::Record {
            module,
            latency_seconds: entry.duration_ms / 1e3,
            ok,
            restricted: entry.restricted,
        }
    }

    /// The modules some of whose requests had only their total duration, sorted.
    pub fn restricted_modules(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .modules
            .iter()
            .filter(|(_, restricted)| **restricted)
            .map(|(name, _)| name.as_str())
            .collect();
        crate::sort::sort_by(&mut names, |a, b| a.cmp(b));
        names
    }

    /// Whether `max_modules` is reached (new modules are skipped).
    pub fn full(&self) -> bool {
        self.modules.len() >= self.settings.max_modules
    }
}

/// `(scheme://host[:port], /path?query)` of an absolute http(s) URL.
fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if host_end == 0 {
        return None;
    }
    let origin_end = url.len() - rest.len() + host_end;
    Some((&url[..origin_end], &url[origin_end..]))
}

/// Digits, a UUID, or a long hex string: an id, not a route.
fn looks_like_id(segment: &str) -> bool {
    let hex = segment.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    segment.bytes().all(|b| b.is_ascii_digit()) || (hex && segment.len() >= 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(url: &str, status: u16) -> ResourceEntry {
        ResourceEntry {
            url: url.to_owned(),
            initiator: "fetch".to_owned(),
            duration_ms: 120.0,
            status,
            restricted: false,
        }
    }

    fn grouper(settings: RumSettings) -> RumGrouper {
        RumGrouper::new(settings, "http://127.0.0.1:8080")
    }

    #[test]
    fn modules_are_host_and_path_prefix_with_ids_folded() {
        let g = grouper(RumSettings::default());
        assert_eq!(
            g.module_of("http://127.0.0.1:8080/api/users/42?x=1")
                .unwrap(),
            "/api/users"
        );
        assert_eq!(
            g.module_of("http://127.0.0.1:8080/api/42/orders").unwrap(),
            "/api/:id"
        );
        assert_eq!(g.module_of("http://127.0.0.1:8080/").unwrap(), "/");
        assert_eq!(
            g.module_of("https://cdn.example.com/lib/a.js").unwrap(),
            "cdn.example.com/lib/a.js"
        );
        assert_eq!(
            g.module_of("http://127.0.0.1:9999/api/x").unwrap(),
            "127.0.0.1:9999/api/x",
            "another port is another origin"
        );
        assert_eq!(g.module_of("data:text/plain,hi"), None);
        let uuid = "http://127.0.0.1:8080/o/123e4567-e89b-12d3-a456-426614174000";
        assert_eq!(g.module_of(uuid).unwrap(), "/o/:id");
    }

    #[test]
    fn explicit_prefixes_win_longest_first() {
        let g = grouper(RumSettings {
            modules: vec![
                RumModule {
                    module: "api".into(),
                    prefix: "/api".into(),
                },
                RumModule {
                    module: "search".into(),
                    prefix: "/api/search".into(),
                },
                RumModule {
                    module: "maps".into(),
                    prefix: "https://maps.example.com/".into(),
                },
            ],
            ..RumSettings::default()
        });
        assert_eq!(
            g.module_of("http://127.0.0.1:8080/api/search?q=a").unwrap(),
            "search"
        );
        assert_eq!(
            g.module_of("http://127.0.0.1:8080/api/users").unwrap(),
            "api"
        );
        assert_eq!(
            g.module_of("https://maps.example.com/tile/1").unwrap(),
            "maps"
        );
    }

    #[test]
    fn statuses_errors_and_hidden_statuses() {
        let mut g = grouper(RumSettings::default());
        let verdict = |g: &mut RumGrouper, e: &ResourceEntry| match g.classify(e) {
            RumVerdict::Record { ok, .. } => ok,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            verdict(&mut g, &entry("http://127.0.0.1:8080/a", 200)),
            Some(true)
        );
        assert_eq!(
            verdict(&mut g, &entry("http://127.0.0.1:8080/a", 404)),
            Some(true)
        );
        assert_eq!(
            verdict(&mut g, &entry("http://127.0.0.1:8080/a", 503)),
            Some(false)
        );
        assert_eq!(
            verdict(&mut g, &entry("http://127.0.0.1:8080/a", 0)),
            Some(false),
            "same origin with no response: a network error"
        );
        assert_eq!(
            verdict(&mut g, &entry("https://other.example/a", 0)),
            None,
            "cross-origin status hidden: unknown, not guessed"
        );
        let mut other = entry("http://127.0.0.1:8080/a", 200);
        other.initiator = "img".into();
        assert_eq!(g.classify(&other), RumVerdict::Ignored);
        let mut bad = entry("http://127.0.0.1:8080/a", 200);
        bad.duration_ms = f64::NAN;
        assert_eq!(g.classify(&bad), RumVerdict::Invalid);
    }

    #[test]
    fn restricted_timing_is_noted_per_module() {
        let mut g = grouper(RumSettings::default());
        let mut e = entry("https://cdn.example.com/x", 0);
        e.restricted = true;
        g.classify(&e);
        g.classify(&entry("http://127.0.0.1:8080/api/a", 200));
        assert_eq!(g.restricted_modules(), ["cdn.example.com/x"]);
    }

    #[test]
    fn new_modules_past_the_cap_are_skipped() {
        let mut g = grouper(RumSettings {
            max_modules: 2,
            ..RumSettings::default()
        });
        for path in ["/a", "/b"] {
            let e = entry(&format!("http://127.0.0.1:8080{path}"), 200);
            assert!(matches!(g.classify(&e), RumVerdict::Record { .. }));
        }
        assert!(g.full());
        assert_eq!(
            g.classify(&entry("http://127.0.0.1:8080/c", 200)),
            RumVerdict::OverCap
        );
        assert!(matches!(
            g.classify(&entry("http://127.0.0.1:8080/a", 200)),
            RumVerdict::Record { .. }
        ));
    }

    #[test]
    fn settings_are_checked() {
        assert!(RumSettings::default().check().is_ok());
        let bad = RumSettings {
            error_statuses: "5xx".into(),
            ..RumSettings::default()
        };
        assert!(bad.check().unwrap_err().contains("error_statuses"));
        let bad = RumSettings {
            initiators: vec![],
            ..RumSettings::default()
        };
        assert!(bad.check().is_err());
    }
}
