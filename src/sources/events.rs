//! Event messages from SSE, WebSocket and NDJSON streams: each message (or line) is
//! one event object or a JSON array of them, `{module, latency, ok, timestamp?,
//! operation?}` with latency in seconds.
//!
//! The fast path allocates nothing per event: serde_json borrows the module name from
//! the message, and a valid event goes straight to `PerformanceMonitor::record`. Each
//! field is read loosely (any JSON type), so one bad event in a batch is rejected and
//! counted by reason while its neighbours are recorded; only broken JSON fails the
//! whole message.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::ndjson::LineSplitter;
use crate::monitor::{PerformanceMonitor, RequestEvent};

/// A validated event, borrowing its strings from the message where it can.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    /// Module name.
    pub module: Cow<'a, str>,
    /// Latency in seconds (finite, >= 0).
    pub latency_seconds: f64,
    /// False for an error.
    pub ok: bool,
    /// When the request finished (Unix seconds).
    pub timestamp: Option<f64>,
    /// Operation within the module.
    pub operation: Option<Cow<'a, str>>,
}

/// Why one event was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventReject {
    /// An array element was not an object.
    NotAnObject,
    /// `module` was missing, not a string, empty, over 256 bytes or had control characters.
    Module,
    /// `latency` was missing, not a number, or negative.
    Latency,
    /// `ok` was missing or not a boolean.
    OkFlag,
    /// `timestamp` was not a number.
    Timestamp,
    /// `operation` was not a string.
    Operation,
    /// `timestamp` was older than the monitor's window.
    Stale,
    /// The monitor refused it (module cap, module name).
    Refused,
}

/// Rejected events by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventRejects {
    /// Array elements that were not objects.
    pub not_an_object: u64,
    /// Bad or missing `module`.
    pub module: u64,
    /// Bad or missing `latency`.
    pub latency: u64,
    /// Bad or missing `ok`.
    pub ok_flag: u64,
    /// Bad `timestamp`.
    pub timestamp: u64,
    /// Bad `operation`.
    pub operation: u64,
    /// Older than the window.
    pub stale: u64,
    /// Refused by the monitor (its snapshot says why).
    pub refused: u64,
}

impl EventRejects {
    /// Counts one rejection.
    pub fn count(&mut self, reason: EventReject) {
        let slot = match reason {
            EventReject::NotAnObject => &mut self.not_an_object,
            EventReject::Module => &mut self.module,
            EventReject::Latency => &mut self.latency,
            EventReject::OkFlag => &mut self.ok_flag,
            EventReject::Timestamp => &mut self.timestamp,
            EventReject::Operation => &mut self.operation,
            EventReject::Stale => &mut self.stale,
            EventReject::Refused => &mut self.refused,
        };
        *slot += 1;
    }

    /// All rejections.
    pub fn total(&self) -> u64 {
        self.not_an_object
            + self.module
            + self.latency
            + self.ok_flag
            + self.timestamp
            + self.operation
            + self.stale
            + self.refused
    }
}

/// A message that is not JSON, or not an object or array.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Broken JSON: serde_json's message, with line and column.
    #[error("event message is not valid JSON: {0}")]
    Json(String),
    /// Valid JSON of the wrong shape.
    #[error(
        "event message must be an object {{module, latency, ok}} or an array of them, not {found}"
    )]
    Shape {
        /// What it was instead (e.g. `a number`).
        found: &'static str,
    },
}

/// Parses one message, calling `on_event` for each event in order, valid or not.
/// Returns the number of events seen.
pub fn parse_message<'a, F>(text: &'a str, on_event: F) -> Result<u64, MessageError>
where
    F: FnMut(Result<Event<'a>, EventReject>),
{
    let trimmed = text.trim_start();
    let found = match trimmed.as_bytes().first() {
        Some(b'{' | b'[') => None,
        None => Some("an empty message"),
        Some(b'"') => Some("a string"),
        Some(b't' | b'f') => Some("a boolean"),
        Some(b'n') => Some("null"),
        Some(_) => Some("a number or garbage"),
    };
    if let Some(found) = found {
        return Err(MessageError::Shape { found });
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut visitor = MessageVisitor { on_event, seen: 0 };
    let seen = deserializer
        .deserialize_any(&mut visitor)
        .and_then(|()| deserializer.end())
        .map(|()| visitor.seen)
        .map_err(|error| MessageError::Json(error.to_string()))?;
    Ok(seen)
}

/// An event stream's running counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventStats {
    /// Messages (or NDJSON lines) read.
    pub messages: u64,
    /// Messages refused whole (broken JSON, wrong shape).
    pub broken_messages: u64,
    /// Events recorded.
    pub recorded: u64,
    /// Events rejected, by reason.
    pub rejected: EventRejects,
}

/// Feeds event messages to a monitor and keeps the stream's counters.
#[derive(Debug, Clone, Default)]
pub struct EventFeed {
    stats: EventStats,
}

impl EventFeed {
    /// A feed with zeroed counters.
    pub fn new() -> Self {
        EventFeed::default()
    }

    /// Counters since the feed was created.
    pub fn stats(&self) -> &EventStats {
        &self.stats
    }

    /// Parses one message and records its valid events at `now`. Returns how many
    /// were recorded; broken JSON is an error (and counted).
    pub fn feed(
        &mut self,
        monitor: &mut PerformanceMonitor,
        text: &str,
        now: f64,
    ) -> Result<u64, MessageError> {
        self.stats.messages += 1;
        let window_start = now - monitor.config().window_seconds();
        let stats = &mut self.stats;
        let before = stats.recorded;
        let result = parse_message(text, |event| match event {
            Ok(event) => match record(monitor, &event, window_start, now) {
                Ok(()) => stats.recorded += 1,
                Err(reason) => stats.rejected.count(reason),
            },
            Err(reason) => stats.rejected.count(reason),
        });
        match result {
            Ok(_) => Ok(self.stats.recorded - before),
            Err(error) => {
                self.stats.broken_messages += 1;
                Err(error)
            }
        }
    }
}

impl EventFeed {
    /// Splits a chunk of an NDJSON stream into lines and feeds each complete line
    /// (a line cut by the chunk's end waits in `splitter`). Broken lines are counted
    /// in the stats and skipped. Returns the events recorded.
    pub fn feed_ndjson(
        &mut self,
        splitter: &mut LineSplitter,
        monitor: &mut PerformanceMonitor,
        chunk: &[u8],
        now: f64,
    ) -> u64 {
        let before = self.stats.recorded;
        splitter.push(chunk, |line| {
            let _ = self.feed(monitor, line, now);
        });
        self.stats.recorded - before
    }
}

/// Records one valid event. Without an operation this is `record` with the borrowed
/// name (no allocation); an operation takes `record_event`, which names a metric.
pub fn record(
    monitor: &mut PerformanceMonitor,
    event: &Event<'_>,
    window_start: f64,
    now: f64,
) -> Result<(), EventReject> {
    if let Some(timestamp) = event.timestamp
        && timestamp < window_start
    {
        return Err(EventReject::Stale);
    }
    let result = match &event.operation {
        None => monitor.record(&event.module, event.latency_seconds, event.ok, now),
        Some(operation) => monitor.record_event(
            &RequestEvent {
                module: event.module.to_string(),
                latency: event.latency_seconds,
                ok: event.ok,
                timestamp: event.timestamp,
                operation: Some(operation.to_string()),
            },
            now,
        ),
    };
    result.map(|_| ()).map_err(|_| EventReject::Refused)
}

/// Any JSON value, kept only if it is a scalar.
#[derive(Debug, Default)]
enum Loose<'a> {
    #[default]
    Missing,
    Null,
    Str(Cow<'a, str>),
    Number(f64),
    Bool(bool),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor(PhantomData))
    }
}

struct LooseVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for LooseVisitor<'a> {
    type Value = Loose<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Loose::Number(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Loose::Number(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Loose::Number(v as f64))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Loose::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
}

/// An event object as sent, every field loose; unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct RawEvent<'a> {
    #[serde(borrow, default)]
    module: Loose<'a>,
    #[serde(borrow, default)]
    latency: Loose<'a>,
    #[serde(borrow, default)]
    ok: Loose<'a>,
    #[serde(borrow, default)]
    timestamp: Loose<'a>,
    #[serde(borrow, default)]
    operation: Loose<'a>,
}

const MAX_MODULE_BYTES: usize = 256;

impl<'a> RawEvent<'a> {
    fn validate(self) -> Result<Event<'a>, EventReject> {
        let module = match self.module {
            Loose::Str(name)
                if !name.is_empty()
                    && name.len() <= MAX_MODULE_BYTES
                    && !name.chars().any(char::is_control) =>
            {
                name
            }
            _ => return Err(EventReject::Module),
        };
        let latency_seconds = match self.latency {
            Loose::Number(latency) if latency.is_finite() && latency >= 0.0 => latency,
            _ => return Err(EventReject::Latency),
        };
        let Loose::Bool(ok) = self.ok else {
            return Err(EventReject::OkFlag);
        };
        let timestamp = match self.timestamp {
            Loose::Missing | Loose::Null => None,
            Loose::Number(t) if t.is_finite() => Some(t),
            _ => return Err(EventReject::Timestamp),
        };
        let operation = match self.operation {
            Loose::Missing | Loose::Null => None,
            Loose::Str(op) if !op.is_empty() => Some(op),
            _ => return Err(EventReject::Operation),
        };
        Ok(Event {
            module,
            latency_seconds,
            ok,
            timestamp,
            operation,
        })
    }
}

/// An array element: an event object, or anything else (skipped and counted).
enum Element<'a> {
    Event(RawEvent<'a>),
    NotAnObject,
}

impl<'de> Deserialize<'de> for Element<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ElementVisitor;
        impl<'de> Visitor<'de> for ElementVisitor {
            type Value = Element<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                RawEvent::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Element::Event)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                LooseVisitor::<'de>(PhantomData)
                    .visit_seq(seq)
                    .map(|_| Element::NotAnObject)
            }
            fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok(Element::NotAnObject)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Element::NotAnObject)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Element::NotAnObject)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Element::NotAnObject)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Element::NotAnObject)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Element::NotAnObject)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Element::NotAnObject)
            }
        }
        deserializer.deserialize_any(ElementVisitor)
    }
}

struct MessageVisitor<F> {
    on_event: F,
    seen: u64,
}

impl<'de, F> Visitor<'de> for &mut MessageVisitor<F>
where
    F: FnMut(Result<Event<'de>, EventReject>),
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object or an array of event objects")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let raw = RawEvent::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.seen += 1;
        (self.on_event)(raw.validate());
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<Element<'de>>()? {
            self.seen += 1;
            (self.on_event)(match element {
                Element::Event(raw) => raw.validate(),
                Element::NotAnObject => Err(EventReject::NotAnObject),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &str) -> Result<Vec<Result<Event<'_>, EventReject>>, MessageError> {
        let mut events = Vec::new();
        parse_message(text, |event| events.push(event))?;
        Ok(events)
    }

    #[test]
    fn one_event_borrows_its_module_name() {
        let events = parse_all(r#"{"module":"api","latency":0.25,"ok":true,"extra":[1,{"a":2}]}"#)
            .expect("valid");
        let event = events[0].as_ref().expect("valid event");
        assert!(matches!(event.module, Cow::Borrowed("api")));
        assert_eq!(event.latency_seconds, 0.25);
        assert!(event.ok && event.timestamp.is_none() && event.operation.is_none());
    }

    #[test]
    fn a_batch_rejects_bad_events_and_keeps_the_rest() {
        let text = r#"[
            {"module":"a","latency":1,"ok":false,"timestamp":1700000000.5,"operation":"get"},
            {"module":"a","latency":-1,"ok":true},
            {"module":"a","latency":"slow","ok":true},
            {"module":"","latency":1,"ok":true},
            {"latency":1,"ok":true},
            {"module":"a","latency":1,"ok":"yes"},
            {"module":"a","latency":1,"ok":true,"timestamp":"now"},
            {"module":"a","latency":1,"ok":true,"operation":5},
            7,
            {"module":"b\u00e9","latency":0,"ok":true,"timestamp":null}
        ]"#;
        let events = parse_all(text).expect("valid JSON");
        let reasons: Vec<_> = events.iter().map(|e| e.as_ref().err().copied()).collect();
        use EventReject::*;
        assert_eq!(
            reasons,
            vec![
                None,
                Some(Latency),
                Some(Latency),
                Some(Module),
                Some(Module),
                Some(OkFlag),
                Some(Timestamp),
                Some(Operation),
                Some(NotAnObject),
                None
            ]
        );
        let Ok(last) = &events[9] else { panic!() };
        assert_eq!(last.module, "bé");
    }

    #[test]
    fn broken_or_misshapen_messages_fail_whole_with_a_clear_error() {
        let truncated = parse_all(r#"[{"module":"a","latency":1,"ok":true}"#).unwrap_err();
        assert!(
            truncated.to_string().contains("not valid JSON"),
            "{truncated}"
        );
        assert!(parse_all("{} trailing").is_err());
        assert_eq!(
            parse_all("42").unwrap_err(),
            MessageError::Shape {
                found: "a number or garbage"
            }
        );
        assert!(parse_all("").is_err());
        assert!(parse_all("[]").expect("empty batch").is_empty());
    }
}
