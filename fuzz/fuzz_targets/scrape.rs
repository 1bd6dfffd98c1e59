//! Any bytes as two consecutive pages of one target through the scrape mapper.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redline::sources::{Format, LabelMatcher, ModuleBy, Scrape, ScrapeConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let middle = (0..=text.len() / 2)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let (first, second) = text.split_at(middle);
    let mut config = ScrapeConfig::new(ModuleBy::Label("job".into()));
    config.requests_counter = Some("req".into());
    config.latency_histogram = Some("lat".into());
    if let Ok(matcher) = LabelMatcher::parse(r#"code=~"5..""#) {
        config.error_matchers.push(matcher);
    }
    let mut scrape = Scrape::new(config);
    for page in [first, second] {
        let _ = scrape.scrape(page, Format::OpenMetrics);
    }
});
