//! Predictive alerts: a robust linear trend of a threshold rule's metric, and when it
//! will cross the threshold. The trend is the median of the slopes between each
//! value in the older half of the recent history and its counterpart half the
//! history later (a Theil–Sen estimate on those pairs), through the median of the
//! values; outliers move neither. A breach is forecast only when at least
//! `MIN_AGREEMENT` of those slopes point towards the threshold, so noise around a
//! flat level predicts nothing. Where a seasonal profile has been learnt, the trend
//! is of what is left after it, and the forecast adds the profile back, so a daily
//! rise is not mistaken for a trend.

/// Values pushed between two forecasts; in between, the last one stands (its time to
/// the crossing counting down), since a forecast over minutes need not be redone
/// every second and a module near a threshold would otherwise pay for one each tick.
pub const FORECAST_EVERY: u32 = 5;

/// Steps at which a seasonal forecast is checked across the horizon.
const SEASONAL_STEPS: usize = 64;

use std::collections::VecDeque;

use super::alert::Comparison;

/// Share of pair slopes that must point towards the threshold.
pub const MIN_AGREEMENT: f64 = 0.8;

/// A rule's value is followed once it is this close to its threshold, as a share of
/// the threshold (`> 0.5` from 0.25 on); nearer modules keep no history.
pub const FOLLOW_FROM: f64 = 0.5;

/// The recent values of one rule's metric on one module, for its trend.
#[derive(Debug, Clone, Default)]
pub struct Trend {
    capacity: usize,
    /// (seconds since `origin`, value), oldest first.
    points: VecDeque<(f32, f32)>,
    origin: f64,
    /// Whether the points are residuals from a seasonal profile.
    residuals: bool,
    /// The last forecast, when it was made, and values pushed since.
    last: Option<(Option<Forecast>, f64)>,
    pushed_since_forecast: u32,
}

/// A forecast crossing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    /// Seconds from the latest value until the trend crosses the threshold.
    pub breach_in_seconds: f64,
    /// The trend's slope, per second.
    pub slope_per_second: f64,
    /// The trend's value at the latest time.
    pub level: f64,
}

impl Trend {
    /// An empty history of at most `capacity` (at least 4) values.
    pub fn new(capacity: usize) -> Self {
        Trend {
            capacity: capacity.max(4),
            points: VecDeque::new(),
            origin: 0.0,
            residuals: false,
            last: None,
            pushed_since_forecast: 0,
        }
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Says whether the values pushed from now on are residuals from a seasonal
    /// profile; a change starts the history afresh, as the two do not mix.
    pub fn use_residuals(&mut self, residuals: bool) {
        if residuals != self.residuals {
            self.points.clear();
            self.residuals = residuals;
            self.last = None;
        }
    }

    /// Adds the value at `now` (Unix seconds), forgetting the oldest past capacity.
    pub fn push(&mut self, now: f64, value: f64) {
        if !value.is_finite() {
            return;
        }
        if self.points.is_empty() {
            self.origin = now;
            self.points.reserve_exact(self.capacity);
        }
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        self.points
            .push_back(((now - self.origin) as f32, value as f32));
        self.pushed_since_forecast = self.pushed_since_forecast.saturating_add(1);
    }

    /// Whether a new forecast is due: none yet, or `FORECAST_EVERY` values since.
    pub fn forecast_due(&self) -> bool {
        self.last.is_none() || self.pushed_since_forecast >= FORECAST_EVERY
    }

    /// Keeps `forecast`, made at `now`, until the next is due.
    pub fn keep_forecast(&mut self, now: f64, forecast: Option<Forecast>) {
        self.last = Some((forecast, now));
        self.pushed_since_forecast = 0;
    }

    /// The kept forecast as of `now`: its time to the crossing less the time since.
    pub fn kept_forecast(&self, now: f64) -> Option<Forecast> {
        let (forecast, made_at) = self.last?;
        let mut forecast = forecast?;
        forecast.breach_in_seconds = (forecast.breach_in_seconds - (now - made_at)).max(0.0);
        Some(forecast)
    }

    /// `forecast` around a seasonal `profile` (the learnt level at a time): the values
    /// pushed must be residuals (value minus the profile at their time), and the
    /// forecast at `latest + Δ` is the residual trend plus the profile there.
    pub fn forecast_seasonal(
        &self,
        threshold: f64,
        comparison: Comparison,
        horizon_seconds: f64,
        min_points: usize,
        profile: impl Fn(f64) -> Option<f64>,
    ) -> Option<Forecast> {
        let (slope, level) = self.fit(comparison, min_points, false)?;
        // No agreed trend: the season alone.
        let slope = slope.unwrap_or(0.0);
        let (latest, _) = *self.points.back()?;
        let latest = self.origin + f64::from(latest);
        let sign = match comparison {
            Comparison::Above => 1.0,
            Comparison::Below => -1.0,
        };
        let now_value = level + profile(latest)?;
        if (threshold - now_value) * sign <= 0.0 {
            return None;
        }
        (1..=SEASONAL_STEPS).find_map(|step| {
            let ahead = horizon_seconds * step as f64 / SEASONAL_STEPS as f64;
            let expected = level + slope * ahead + profile(latest + ahead)?;
            ((expected - threshold) * sign > 0.0).then_some(Forecast {
                breach_in_seconds: ahead,
                slope_per_second: slope,
                level: now_value,
            })
        })
    }

    /// The slope (when enough pair slopes agree on a side) and the level at the latest
    /// time, given at least `min_points` values. With `need_slope`, a fit whose
    /// slopes do not agree is `None` at once: a plain forecast has no use for its level.
    fn fit(
        &self,
        comparison: Comparison,
        min_points: usize,
        need_slope: bool,
    ) -> Option<(Option<f64>, f64)> {
        let n = self.points.len();
        if n < min_points.max(4) {
            return None;
        }
        let half = n / 2;
        let sign = match comparison {
            Comparison::Above => 1.0,
            Comparison::Below => -1.0,
        };
        // The pairs: each value of the older half with the one half the history later.
        let pair_slopes = || {
            self.points
                .iter()
                .zip(self.points.iter().skip(half))
                .take(half)
                .filter_map(|(&(t0, v0), &(t1, v1))| {
                    let dt = f64::from(t1 - t0);
                    (dt > 0.0).then(|| f64::from(v1 - v0) / dt)
                })
        };
        // Agreement first, without allocating: near a flat level it usually fails, and
        // then a plain forecast needs neither median.
        let (slope_count, towards) = pair_slopes().fold((0usize, 0usize), |(all, towards), s| {
            (all + 1, towards + usize::from(s * sign > 0.0))
        });
        let agreed = slope_count > 0 && towards as f64 >= MIN_AGREEMENT * slope_count as f64;
        if need_slope && !agreed {
            return None;
        }
        let slope = if agreed {
            let mut slopes = Vec::with_capacity(slope_count);
            slopes.extend(pair_slopes());
            median(&mut slopes)
        } else {
            None
        };
        let (latest, _) = *self.points.back()?;
        let mut levels: Vec<f64> = self
            .points
            .iter()
            .map(|(t, v)| f64::from(*v) + slope.unwrap_or(0.0) * f64::from(latest - t))
            .collect();
        Some((slope, median(&mut levels)?))
    }

    /// When the trend crosses `threshold` on the bad side, if it does within
    /// `horizon_seconds` and the history holds at least `min_points` values.
    pub fn forecast(
        &self,
        threshold: f64,
        comparison: Comparison,
        horizon_seconds: f64,
        min_points: usize,
    ) -> Option<Forecast> {
        let (slope, level) = self.fit(comparison, min_points, true)?;
        let slope = slope?;
        let sign = match comparison {
            Comparison::Above => 1.0,
            Comparison::Below => -1.0,
        };
        if (threshold - level) * sign <= 0.0 {
            // Already past it: that is the rule's own alert, not a prediction.
            return None;
        }
        let breach_in_seconds = (threshold - level) / slope;
        (breach_in_seconds > 0.0 && breach_in_seconds <= horizon_seconds).then_some(Forecast {
            breach_in_seconds,
            slope_per_second: slope,
            level,
        })
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.points.capacity() * std::mem::size_of::<(f32, f32)>()
    }
}

/// Whether `value` is close enough to `threshold` to follow its trend.
pub fn follows(value: f64, threshold: f64, comparison: Comparison) -> bool {
    let band = FOLLOW_FROM * threshold.abs();
    match comparison {
        Comparison::Above => value >= threshold - band,
        Comparison::Below => value <= threshold + band,
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mid = values.len() / 2;
    let (_, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if values.len() % 2 == 1 {
        return Some(upper);
    }
    let lower = values[..mid]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    Some((lower + upper) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trend_of(values: impl Iterator<Item = f64>) -> Trend {
        let mut trend = Trend::new(60);
        for (i, v) in values.enumerate() {
            trend.push(1000.0 + i as f64, v);
        }
        trend
    }

    #[test]
    fn a_ramp_is_forecast_to_cross_when_it_will() {
        // 0.3 s rising 1 ms a second: 0.5 s is 200 s after the last of 60 values.
        let trend = trend_of((0..60).map(|i| 0.241 + 0.001 * f64::from(i)));
        let forecast = trend
            .forecast(0.5, Comparison::Above, 600.0, 30)
            .expect("a forecast");
        assert!(
            (forecast.breach_in_seconds - 200.0).abs() < 1.0,
            "{forecast:?}"
        );
        assert!(trend.forecast(0.5, Comparison::Above, 100.0, 30).is_none());
        assert!(trend.forecast(0.5, Comparison::Below, 600.0, 30).is_none());
    }

    #[test]
    fn a_noisy_flat_series_and_a_short_history_forecast_nothing() {
        let noisy = trend_of((0..60).map(|i| 0.45 + 0.01 * f64::from((i * 37) % 11)));
        assert_eq!(noisy.forecast(0.5, Comparison::Above, 3600.0, 30), None);
        let short = trend_of((0..20).map(|i| 0.3 + 0.01 * f64::from(i)));
        assert_eq!(short.forecast(0.5, Comparison::Above, 3600.0, 30), None);
    }

    fn daily(t: f64) -> f64 {
        0.3 + 0.1 * (std::f64::consts::TAU * t / 86_400.0).sin()
    }

    #[test]
    fn a_daily_rise_is_no_trend_once_the_season_is_known() {
        // The rising edge of a daily cycle peaking at 0.4, below a 0.42 threshold.
        let times: Vec<f64> = (0..60).map(|i| 60.0 * f64::from(i)).collect();
        let mut plain = Trend::new(60);
        let mut seasonal = Trend::new(60);
        seasonal.use_residuals(true);
        for t in &times {
            plain.push(*t, daily(*t));
            seasonal.push(*t, daily(*t) - daily(*t));
        }
        let horizon = 6.0 * 3600.0;
        assert!(
            plain
                .forecast(0.42, Comparison::Above, horizon, 30)
                .is_some(),
            "the plain trend mistakes the rise for a trend"
        );
        let season = |t: f64| Some(daily(t));
        assert_eq!(
            seasonal.forecast_seasonal(0.42, Comparison::Above, horizon, 30, season),
            None
        );
        // A threshold under the daily peak is crossed as the season rises to it.
        let forecast = seasonal
            .forecast_seasonal(0.38, Comparison::Above, horizon, 30, season)
            .expect("the season crosses 0.38");
        let crossing = 3540.0 + forecast.breach_in_seconds;
        assert!(
            daily(crossing) > 0.38 && daily(crossing - 400.0) <= 0.38,
            "{forecast:?}"
        );
    }

    #[test]
    fn one_outlier_does_not_bend_the_trend() {
        let mut values: Vec<f64> = (0..60).map(|i| 0.241 + 0.001 * f64::from(i)).collect();
        values[55] = 5.0;
        let forecast = trend_of(values.into_iter())
            .forecast(0.5, Comparison::Above, 600.0, 30)
            .expect("a forecast");
        assert!(
            (forecast.breach_in_seconds - 200.0).abs() < 2.0,
            "{forecast:?}"
        );
    }
}
