//! A Leptos app that embeds redline as components: the whole `Dashboard` on the
//! simulator, and a `MonitorScope` holding the module table and alert list of the app's
//! own measurements, recorded with `use_monitor()`.
//!
//! Built for the browser by `make build-example` (into target/e2e/leptos-example/)
//! and driven by the end-to-end tests; open its index.html from any static server.

#[cfg(target_arch = "wasm32")]
fn main() {
    use leptos::prelude::*;
    use redline::components::{AlertList, ModuleTable};
    use redline::config::AppConfig;
    use redline::embed::{Dashboard, MonitorScope, use_monitor};

    /// A button that times a (pretend) call and records it.
    #[component]
    fn CallButton() -> impl IntoView {
        let monitor = use_monitor();
        let calls = RwSignal::new(0u32);
        let call = move |_| {
            calls.update(|n| *n += 1);
            let n = calls.get_untracked();
            // Every fourth call is slow and fails, so alerts have something to say.
            let (latency, ok) = if n % 4 == 0 {
                (1.5, false)
            } else {
                (0.08, true)
            };
            if let Err(error) = monitor.record("checkout-api", latency, ok) {
                leptos::logging::warn!("not recorded: {error}");
            }
        };
        view! {
            <button type="button" id="call" on:click=call>"Call the checkout API"</button>
            <span id="calls">{move || format!("{} calls", calls.get())}</span>
        }
    }

    let ours = AppConfig::parse(r#"{"simulation": {"enabled": false}}"#, "the example")
        .unwrap_or_else(|_| AppConfig::defaults());
    leptos::mount::mount_to_body(move || {
        view! {
            <h1>"My Leptos app"</h1>
            <section id="ours">
                <h2>"Our calls"</h2>
                <MonitorScope config=ours>
                    <CallButton />
                    <ModuleTable />
                    <AlertList limit=10 />
                </MonitorScope>
            </section>
            <section id="full">
                <h2>"The whole dashboard"</h2>
                <Dashboard config=AppConfig::defaults() />
            </section>
        }
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "This example runs in the browser: `make build-example`, then serve target/e2e/leptos-example/."
    );
}
