//! Hash routes (`#/`, `#/modules/{name}`, `#/alerts`, `#/settings`), so that any static
//! host serves every view: a pure parse, plus the browser listener in `platform`.

/// A view of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Summary, module table, bottlenecks and alerts.
    Overview,
    /// One module's charts and alerts.
    Module(String),
    /// The full alert list.
    Alerts,
    /// The config panel.
    Settings,
}

impl Route {
    /// Parses a location hash such as `#/modules/database`; unknown routes are the overview.
    pub fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        let mut parts = path.splitn(2, '/');
        match (parts.next().unwrap_or(""), parts.next()) {
            ("modules", Some(name)) if !name.is_empty() => Route::Module(decode(name)),
            ("alerts", _) => Route::Alerts,
            ("settings", _) => Route::Settings,
            _ => Route::Overview,
        }
    }

    /// The hash that leads to this route.
    pub fn href(&self) -> String {
        match self {
            Route::Overview => "#/".to_owned(),
            Route::Module(name) => format!("#/modules/{}", encode(name)),
            Route::Alerts => "#/alerts".to_owned(),
            Route::Settings => "#/settings".to_owned(),
        }
    }
}

/// Percent-decodes a path segment (module names may hold spaces or slashes).
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes what is not safe in a hash path segment.
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_and_round_trip() {
        assert_eq!(Route::parse(""), Route::Overview);
        assert_eq!(Route::parse("#/"), Route::Overview);
        assert_eq!(
            Route::parse("#/modules/database"),
            Route::Module("database".into())
        );
        assert_eq!(Route::parse("#/alerts"), Route::Alerts);
        assert_eq!(Route::parse("#/settings"), Route::Settings);
        assert_eq!(Route::parse("#/nowhere"), Route::Overview);
        assert_eq!(Route::parse("#/modules/"), Route::Overview);
        for name in ["database", "api gateway", "a/b", "ünï", "op:read"] {
            let route = Route::Module(name.to_owned());
            assert_eq!(Route::parse(&route.href()), route, "{name}");
        }
    }

    #[test]
    fn broken_escapes_do_not_panic() {
        assert_eq!(
            Route::parse("#/modules/%zz%4"),
            Route::Module("%zz%4".into())
        );
    }
}
