//! One module: its numbers, its charts and its alerts; reached by `#/modules/{name}`.

use leptos::prelude::*;

use crate::components::{AlertList, ChartKind, MetricChart, status_class};
use crate::format;
use crate::route::Route;
use crate::state::use_app;

/// The detail view of `module`.
#[component]
pub fn ModuleDetail(
    /// Module name.
    #[prop(into)]
    module: String,
) -> impl IntoView {
    let app = use_app();
    let exists = {
        let module = module.clone();
        move || app.snapshot.with(|s| s.modules.get(&module).is_some())
    };
    let status = {
        let module = module.clone();
        Memo::new(move |_| {
            app.snapshot.with(|s| {
                s.modules
                    .get(&module)
                    .map_or("no_data", |m| status_class(m.status))
            })
        })
    };
    let line = {
        let module = module.clone();
        move || {
            app.snapshot.with(|s| {
                s.modules.get(&module).map(|m| {
                    let p = &m.percentiles;
                    format!(
                        "p50 {} · p95 {} · p99 {} · p99.9 {} · max {} · {} · {} errors · {} requests in {} · source {}",
                        format::percentile(&p.p50),
                        format::percentile(&p.p95),
                        format::percentile(&p.p99),
                        format::percentile(&p.p999),
                        format::latency(m.metrics.latency_max),
                        format::rate(m.metrics.requests_per_second),
                        format::percent(m.metrics.error_rate),
                        m.window.requests,
                        format::duration(m.window.seconds),
                        m.source.name(),
                    )
                })
            })
        }
    };
    let title = module.clone();
    let charts_module = module.clone();
    let alerts_module = module.clone();
    view! {
        <article class="module-detail" data-testid="module-detail" data-module=module.clone() data-status=move || status.get()>
            <nav class="crumbs"><a href=Route::Overview.href()>"← all modules"</a></nav>
            <h2><span class=move || format!("status-dot {}", status.get())></span>{title}</h2>
            <Show
                when=exists
                fallback=move || view! { <p class="empty">"No module of this name is monitored (yet)."</p> }
            >
                <p class="detail-line" data-testid="detail-line">{line.clone()}</p>
                <div class="charts">
                    <MetricChart module=charts_module.clone() kind=ChartKind::Latency />
                    <MetricChart module=charts_module.clone() kind=ChartKind::Throughput />
                    <MetricChart module=charts_module.clone() kind=ChartKind::ErrorRate />
                </div>
            </Show>
            <AlertList module=alerts_module />
        </article>
    }
}
