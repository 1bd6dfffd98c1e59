//! The dashboard page as the end-to-end tests see it: reads through the stable
//! `data-testid` selectors only, each in one round trip to the page.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::browser::{Browser, E2eError, E2eResult, wait_until};

/// One row of the module table, as rendered.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModuleRow {
    pub module: Option<String>,
    pub status: Option<String>,
    pub p50: Option<String>,
    pub p95: Option<String>,
    pub p99: Option<String>,
    pub rps: Option<String>,
    pub error_rate: Option<String>,
}

/// The statuses of a module whose window holds data (the contract adds `no_data`).
pub const LIVE_STATUSES: &[&str] = &["ok", "warning", "critical"];

impl ModuleRow {
    /// What is wrong with this row's cells, if anything: each must be a number with
    /// its unit.
    pub fn unit_problems(&self) -> Vec<String> {
        let latency_units: &[&str] = &["µs", "ms", "s"];
        let cells: [(&str, &Option<String>, &[&str]); 5] = [
            ("p50", &self.p50, latency_units),
            ("p95", &self.p95, latency_units),
            ("p99", &self.p99, latency_units),
            ("rps", &self.rps, &["req/s"]),
            ("error-rate", &self.error_rate, &["%"]),
        ];
        cells
            .iter()
            .filter(|(_, text, units)| !text.as_deref().is_some_and(|t| has_unit(t, units)))
            .map(|(name, text, units)| format!("{name} = {text:?}, wanted a number in {units:?}"))
            .collect()
    }

    /// The numbers shown, for telling whether they changed.
    pub fn numbers(&self) -> [Option<String>; 5] {
        [
            self.p50.clone(),
            self.p95.clone(),
            self.p99.clone(),
            self.rps.clone(),
            self.error_rate.clone(),
        ]
    }
}

/// Whether `text` is a number followed by one of `units` ("12.3 ms", "0.5 %").
pub fn has_unit(text: &str, units: &[&str]) -> bool {
    let text = text.trim();
    units.iter().any(|unit| {
        text.strip_suffix(unit).is_some_and(|number| {
            // "<0.1 %", "1.2k req/s" and "1,234 ms" are numbers with units too.
            let number = number.trim().trim_start_matches(['<', '>', '~', '≈']);
            let number = number.strip_suffix('k').unwrap_or(number);
            number
                .replace(',', "")
                .parse::<f64>()
                .is_ok_and(f64::is_finite)
        })
    })
}

/// One item of the alert list, as rendered.
#[derive(Debug, Clone, Deserialize)]
pub struct AlertItem {
    pub level: Option<String>,
    pub state: Option<String>,
    pub text: String,
}

/// The dashboard in a browser.
pub struct Dashboard<'b> {
    browser: &'b Browser,
}

const MODULE_ROWS_JS: &str = r#"
const cell = (row, id) => {
  const el = row.querySelector(`[data-testid=${id}]`);
  return el ? (el.innerText || el.textContent).trim() : null;
};
return Array.from(document.querySelectorAll(
  '[data-testid=module-table] tr[data-testid=module-row]'
)).map((row) => ({
  module: row.getAttribute('data-module'),
  status: row.getAttribute('data-status'),
  p50: cell(row, 'p50'), p95: cell(row, 'p95'), p99: cell(row, 'p99'),
  rps: cell(row, 'rps'), error_rate: cell(row, 'error-rate'),
}));
"#;

const ALERTS_JS: &str = r#"
return Array.from(document.querySelectorAll(arguments[0]))
  .map((item) => ({
    level: item.getAttribute('data-level'),
    state: item.getAttribute('data-state'),
    text: (item.innerText || item.textContent).trim(),
  }));
"#;

const TEXT_JS: &str = r#"
const el = document.querySelector(arguments[0]);
return el ? (el.innerText || el.textContent).trim() : null;
"#;

const ATTRIBUTE_JS: &str = r#"
const el = document.querySelector(arguments[0]);
return el ? el.getAttribute(arguments[1]) : null;
"#;

/// Computed colours of an element and its descendants that read as red: any colour
/// syntax is normalised through a canvas, then judged by hue, saturation and lightness.
const REDDISH_JS: &str = r#"
const root = document.querySelector(arguments[0]);
if (!root) return null;
const canvas = document.createElement('canvas');
canvas.width = canvas.height = 1;
const ctx = canvas.getContext('2d', { willReadFrequently: true });
const rgba = (css) => {
  ctx.clearRect(0, 0, 1, 1);
  ctx.fillStyle = 'rgba(0, 0, 0, 0)';
  ctx.fillStyle = css;
  ctx.fillRect(0, 0, 1, 1);
  const d = ctx.getImageData(0, 0, 1, 1).data;
  return [d[0] / 255, d[1] / 255, d[2] / 255, d[3] / 255];
};
const reddish = ([r, g, b, a]) => {
  const max = Math.max(r, g, b), min = Math.min(r, g, b), delta = max - min;
  const lightness = (max + min) / 2;
  if (a < 0.3 || delta === 0) return false;
  const saturation = delta / (1 - Math.abs(2 * lightness - 1));
  let hue = max === r ? 60 * (((g - b) / delta) % 6)
    : max === g ? 60 * ((b - r) / delta + 2) : 60 * ((r - g) / delta + 4);
  if (hue < 0) hue += 360;
  return saturation >= 0.35 && lightness >= 0.2 && lightness <= 0.92 && (hue <= 20 || hue >= 340);
};
// A colour counts only where it is painted: borders with a width, outlines with a
// style, pseudo-elements with content.
const painted = (style, prop) => {
  const side = prop.match(/^border(Left|Top|Right|Bottom)Color$/);
  if (side) return parseFloat(style[`border${side[1]}Width`]) > 0;
  if (prop === 'outlineColor') return style.outlineStyle !== 'none';
  return true;
};
const props = ['color', 'backgroundColor', 'borderLeftColor', 'borderTopColor',
  'borderRightColor', 'borderBottomColor', 'outlineColor', 'fill', 'stroke'];
const found = new Set();
for (const el of [root, ...root.querySelectorAll('*')].slice(0, 200)) {
  for (const pseudo of [null, '::before', '::after']) {
    const style = getComputedStyle(el, pseudo);
    if (pseudo && (style.content === 'none' || style.content === 'normal')) continue;
    for (const prop of props) {
      const value = style[prop];
      if (value && painted(style, prop) && reddish(rgba(value))) {
        const name = el.getAttribute('data-testid') || el.className || el.tagName.toLowerCase();
        found.add(`${name}${pseudo || ''} ${prop}: ${value}`);
      }
    }
  }
}
return Array.from(found);
"#;

impl<'b> Dashboard<'b> {
    /// The dashboard shown in `browser`.
    pub fn new(browser: &'b Browser) -> Dashboard<'b> {
        Dashboard { browser }
    }

    async fn run(&self, script: &str, args: Vec<Value>) -> E2eResult<Value> {
        Ok(self.browser.client().execute(script, args).await?)
    }

    /// Opens `url` and waits for the document (not the app) to load.
    pub async fn open(&self, url: &str) -> E2eResult<()> {
        Ok(self.browser.client().goto(url).await?)
    }

    /// Sets the location's hash, as a click on an in-page link would.
    pub async fn go_to_hash(&self, hash: &str) -> E2eResult<()> {
        self.run(
            "window.location.hash = arguments[0];",
            vec![Value::from(hash)],
        )
        .await?;
        Ok(())
    }

    /// The module table's rows.
    pub async fn module_rows(&self) -> E2eResult<Vec<ModuleRow>> {
        Ok(serde_json::from_value(
            self.run(MODULE_ROWS_JS, vec![]).await?,
        )?)
    }

    /// Types `text` into the module table's name filter, as a user would; the table
    /// renders only the rows in view, so a module among hundreds is found this way.
    pub async fn filter_modules(&self, text: &str) -> E2eResult<()> {
        self.run(
            "const input = document.querySelector('[data-testid=module-filter]');
             if (input && input.value !== arguments[0]) {
                 input.value = arguments[0];
                 input.dispatchEvent(new Event('input', { bubbles: true }));
             }",
            vec![Value::from(text)],
        )
        .await?;
        Ok(())
    }

    /// The module rows rendered, and how many rows the table's visible area holds.
    pub async fn table_fill(&self) -> E2eResult<(u64, u64)> {
        let found = self
            .run(
                "const scroller = document.querySelector('.table-scroll');
                 const rows = document.querySelectorAll('tr[data-testid=module-row]').length;
                 const room = scroller ? Math.floor((scroller.clientHeight - 30) / 30) : 0;
                 return [rows, room];",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(found)?)
    }

    /// The alert list's items.
    pub async fn alerts(&self) -> E2eResult<Vec<AlertItem>> {
        self.alert_items("[data-testid=alert-list] [data-testid=alert]")
            .await
    }

    /// The stored alert history's items (the Alerts view).
    pub async fn history_alerts(&self) -> E2eResult<Vec<AlertItem>> {
        self.alert_items("[data-testid=alert-history] [data-testid=history-alert]")
            .await
    }

    async fn alert_items(&self, selector: &str) -> E2eResult<Vec<AlertItem>> {
        let items = self.run(ALERTS_JS, vec![Value::from(selector)]).await?;
        Ok(serde_json::from_value(items)?)
    }

    /// The rendered text of the first element matching `selector`.
    pub async fn text(&self, selector: &str) -> E2eResult<Option<String>> {
        let text = self.run(TEXT_JS, vec![Value::from(selector)]).await?;
        Ok(text.as_str().map(str::to_owned))
    }

    /// An attribute of the first element matching `selector`.
    pub async fn attribute(&self, selector: &str, name: &str) -> E2eResult<Option<String>> {
        let value = self
            .run(ATTRIBUTE_JS, vec![Value::from(selector), Value::from(name)])
            .await?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// The red-looking computed colours of the first element matching `selector` and
    /// its descendants (`None` when nothing matches).
    pub async fn reddish_colours(&self, selector: &str) -> E2eResult<Option<Vec<String>>> {
        let found = self.run(REDDISH_JS, vec![Value::from(selector)]).await?;
        Ok(serde_json::from_value(found)?)
    }

    /// Waits until the table shows exactly `modules` (in any order), each with data
    /// (a status other than `no_data`) and every number with its unit.
    pub async fn wait_for_modules(
        &self,
        modules: &[&str],
        limit: Duration,
    ) -> E2eResult<Vec<ModuleRow>> {
        let mut last_seen = Vec::new();
        let outcome = wait_until("the module table", limit, async || {
            // A broken page shows its error panel: fail at once with its message.
            if let Some(message) = self.text("[data-testid=error-panel]").await? {
                return Err(E2eError(format!("the error panel shows: {message:?}")));
            }
            let rows = self.module_rows().await?;
            let mut names: Vec<&str> = rows.iter().filter_map(|r| r.module.as_deref()).collect();
            names.sort_unstable();
            let mut wanted = modules.to_vec();
            wanted.sort_unstable();
            let complete = names == wanted
                && rows.iter().all(|row| {
                    row.unit_problems().is_empty()
                        && row
                            .status
                            .as_deref()
                            .is_some_and(|s| LIVE_STATUSES.contains(&s))
                });
            last_seen.clone_from(&rows);
            Ok(complete.then_some(rows))
        })
        .await;
        outcome.map_err(|E2eError(message)| {
            let problems: Vec<String> = last_seen
                .iter()
                .map(|row| {
                    format!(
                        "  {:?} status {:?}: {:?}",
                        row.module,
                        row.status,
                        row.unit_problems()
                    )
                })
                .collect();
            E2eError(format!(
                "{message}: wanted rows for {modules:?} (statuses {LIVE_STATUSES:?}) with \
                 units; last seen {} rows:\n{}",
                last_seen.len(),
                problems.join("\n")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::has_unit;

    #[test]
    fn units_are_recognised() {
        assert!(has_unit("12.3 ms", &["ms", "s"]));
        assert!(has_unit("1.2 s", &["ms", "s"]));
        assert!(has_unit("1,234.5 req/s", &["req/s"]));
        assert!(has_unit("0.5 %", &["%"]));
        assert!(has_unit("<0.1 %", &["%"]));
        assert!(has_unit("1.2k req/s", &["req/s"]));
        assert!(has_unit("350 µs", &["µs", "ms", "s"]));
        assert!(!has_unit("—", &["ms", "s"]));
        assert!(!has_unit("12.3", &["ms", "s"]));
        assert!(!has_unit("NaN ms", &["ms"]));
        assert!(!has_unit("ms", &["ms"]));
    }
}
