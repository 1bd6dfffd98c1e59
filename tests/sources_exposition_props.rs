//! Property tests of the exposition parser: generated pages read back exactly (names,
//! unescaped label values, values, timestamps, in both formats), and no input at all
//! makes the parser or the scrape mapper panic.

use proptest::prelude::*;
use redline::sources::prometheus::{Line, escape_label_value, parse};
use redline::sources::{Format, LabelMatcher, ModuleBy, Scrape, ScrapeConfig};

#[derive(Debug, Clone)]
struct Generated {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
    timestamp_ms: Option<i64>,
}

fn sample() -> impl Strategy<Value = Generated> {
    let name = "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}";
    let labels = prop::collection::btree_map(
        "[a-zA-Z_][a-zA-Z0-9_]{0,10}",
        "\\PC{0,12}|[\"\\\\\n{},=# ]{0,6}",
        0..5,
    );
    let value = prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        (0u64..1 << 40).prop_map(|v| v as f64),
    ];
    let timestamp = prop::option::of(-1_000_000_000_000i64..4_000_000_000_000);
    (name, labels, value, timestamp).prop_map(|(name, labels, value, timestamp_ms)| Generated {
        name,
        labels: labels.into_iter().collect(),
        value,
        timestamp_ms,
    })
}

fn write(samples: &[Generated], format: Format) -> String {
    let mut page = String::new();
    for s in samples {
        page.push_str(&s.name);
        if !s.labels.is_empty() {
            let labels: Vec<String> = s
                .labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label_value(v)))
                .collect();
            page.push_str(&format!("{{{}}}", labels.join(",")));
        }
        // Rust's `{:?}` of an f64 round-trips exactly; NaN and inf as Prometheus writes them.
        let value = match s.value {
            v if v.is_nan() => "NaN".to_owned(),
            v if v == f64::INFINITY => "+Inf".to_owned(),
            v if v == f64::NEG_INFINITY => "-Inf".to_owned(),
            v => format!("{v:?}"),
        };
        page.push_str(&format!(" {value}"));
        match (s.timestamp_ms, format) {
            (Some(ms), Format::Prometheus) => page.push_str(&format!(" {ms}")),
            (Some(ms), Format::OpenMetrics) => page.push_str(&format!(" {:?}", ms as f64 / 1000.0)),
            (None, _) => {}
        }
        page.push('\n');
    }
    if format == Format::OpenMetrics {
        page.push_str("# EOF\n");
    }
    page
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_pages_round_trip(samples in prop::collection::vec(sample(), 0..20), om in any::<bool>()) {
        let format = if om { Format::OpenMetrics } else { Format::Prometheus };
        let page = write(&samples, format);
        let mut read = Vec::new();
        for line in parse(&page, format) {
            match line {
                Ok(Line::Sample(s)) => read.push(s),
                Ok(_) => {}
                Err(error) => prop_assert!(false, "{error} in {page:?}"),
            }
        }
        prop_assert_eq!(read.len(), samples.len());
        for (got, want) in read.iter().zip(&samples) {
            prop_assert_eq!(got.name, want.name.as_str());
            let labels: Vec<(String, String)> =
                got.labels.iter().map(|l| (l.name.to_owned(), l.value().into_owned())).collect();
            prop_assert_eq!(&labels, &want.labels);
            prop_assert!(got.value == want.value || (got.value.is_nan() && want.value.is_nan()));
            let seconds = want.timestamp_ms.map(|ms| ms as f64 / 1000.0);
            prop_assert_eq!(got.timestamp_seconds, seconds);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}|[a-z_{}=\",# \n.+\\-0-9A-Z\\\\]{0,300}") {
        for format in [Format::Prometheus, Format::OpenMetrics] {
            for line in parse(&text, format) {
                if let Ok(Line::Sample(s)) = line {
                    let _ = s.labels.iter().count();
                }
            }
            let mut config = ScrapeConfig::new(ModuleBy::Label("a".into()));
            config.requests_counter = Some("a".into());
            config.latency_histogram = Some("b".into());
            config.error_matchers = vec![LabelMatcher::parse(r#"c=~"5..""#).expect("matcher")];
            let mut scrape = Scrape::new(config);
            let _ = scrape.scrape(&text, format);
            let _ = scrape.scrape(&text, format);
        }
    }
}
