//! Numbers as people read them on the dashboard: latencies in µs, ms or s, rates in
//! req/s, ratios in %, durations and clock times. Pure, so it is tested natively.

/// A latency in seconds, with a unit that keeps three significant figures or so.
pub fn latency(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "–".to_owned();
    }
    let abs = seconds.abs();
    if abs == 0.0 {
        "0 ms".to_owned()
    } else if abs < 1e-3 {
        format!("{:.0} µs", seconds * 1e6)
    } else if abs < 0.1 {
        format!("{:.1} ms", seconds * 1e3)
    } else if abs < 1.0 {
        format!("{:.0} ms", seconds * 1e3)
    } else {
        format!("{seconds:.2} s")
    }
}

/// A throughput in requests per second.
pub fn rate(per_second: f64) -> String {
    if !per_second.is_finite() {
        return "–".to_owned();
    }
    if per_second >= 1000.0 {
        format!("{:.1}k req/s", per_second / 1000.0)
    } else if per_second >= 10.0 {
        format!("{per_second:.0} req/s")
    } else {
        format!("{per_second:.1} req/s")
    }
}

/// A 0..1 ratio as a percentage.
pub fn percent(ratio: f64) -> String {
    if !ratio.is_finite() {
        return "–".to_owned();
    }
    let pct = ratio * 100.0;
    if pct == 0.0 {
        "0 %".to_owned()
    } else if pct < 0.1 {
        "<0.1 %".to_owned()
    } else if pct < 10.0 {
        format!("{pct:.1} %")
    } else {
        format!("{pct:.0} %")
    }
}

/// A metric's value in its own unit, chosen by the metric's name.
pub fn metric_value(metric: &str, value: f64) -> String {
    if metric.starts_with("latency") {
        latency(value)
    } else if metric == "error_rate" {
        percent(value)
    } else if metric == "requests_per_second" {
        rate(value)
    } else {
        format!("{value:.3}")
    }
}

/// A percentile with how far it can be trusted: the sketch's error bound, the
/// histogram bucket that holds it (the estimate inside it is an interpolation), or
/// that the source reported it.
pub fn percentile(p: &crate::monitor::Percentile) -> String {
    use crate::monitor::metrics::PercentileMethod;
    let value = latency(p.value);
    let evidence = match p.method {
        _ if p.samples == 0 => return "no data".to_owned(),
        PercentileMethod::Sketch => {
            format!("±{}", percent(p.relative_error.unwrap_or_default()))
        }
        PercentileMethod::Buckets => {
            let lower = latency(p.bucket_lower.unwrap_or_default());
            let upper = match p.bucket_upper {
                Some(upper) if upper.is_finite() => latency(upper),
                _ => "+Inf".to_owned(),
            };
            format!("in bucket {lower} – {upper}")
        }
        PercentileMethod::Reported => "as reported".to_owned(),
    };
    let thin = if p.low_confidence {
        ", few samples"
    } else {
        ""
    };
    format!("{value} ({evidence}{thin})")
}

/// A byte count as `512 B`, `3.2 KiB` or `48.0 MiB`.
pub fn bytes(count: f64) -> String {
    if count >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", count / (1024.0 * 1024.0))
    } else if count >= 1024.0 {
        format!("{:.1} KiB", count / 1024.0)
    } else {
        format!("{count:.0} B")
    }
}

/// A duration in seconds as `42 s`, `3 m 05 s` or `2 h 10 m`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "–".to_owned();
    }
    let total = seconds.round() as u64;
    match total {
        0..=59 => format!("{total} s"),
        60..=3599 => format!("{} m {:02} s", total / 60, total % 60),
        _ => format!("{} h {:02} m", total / 3600, (total % 3600) / 60),
    }
}

/// A Unix time as the UTC clock time `HH:MM:SS`.
pub fn clock(unix_seconds: f64) -> String {
    if !unix_seconds.is_finite() || unix_seconds < 0.0 {
        return "–".to_owned();
    }
    let of_day = (unix_seconds as u64) % 86_400;
    format!(
        "{:02}:{:02}:{:02}",
        of_day / 3600,
        (of_day % 3600) / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_pick_a_readable_unit() {
        assert_eq!(latency(0.000_250), "250 µs");
        assert_eq!(latency(0.0123), "12.3 ms");
        assert_eq!(latency(0.456), "456 ms");
        assert_eq!(latency(1.5), "1.50 s");
        assert_eq!(latency(0.0), "0 ms");
        assert_eq!(latency(f64::NAN), "–");
    }

    #[test]
    fn rates_percentages_and_durations() {
        assert_eq!(rate(150.4), "150 req/s");
        assert_eq!(rate(2.25), "2.2 req/s");
        assert_eq!(rate(12_345.0), "12.3k req/s");
        assert_eq!(percent(0.0523), "5.2 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.25), "25 %");
        assert_eq!(duration(75.0), "1 m 15 s");
        assert_eq!(duration(7300.0), "2 h 01 m");
        assert_eq!(clock(3_723.0), "01:02:03");
        assert_eq!(metric_value("error_rate", 0.1), "10 %");
    }
}
