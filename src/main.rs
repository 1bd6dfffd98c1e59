//! The bundle's entry point: a panic hook that shows an error panel, the
//! `<redline-dashboard>` element, and, on the app's own page, the dashboard.

#[cfg(target_arch = "wasm32")]
fn main() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        redline::embed::show_fatal_error(&info.to_string());
    }));
    redline::embed::define_custom_element();
    // A page that only embeds dashboards (through mount() or the element) loads the
    // same bundle; the app itself mounts only on its own page.
    if redline::platform::is_app_page() {
        redline::embed::adopt_page_styles();
        leptos::mount::mount_to_body(redline::app::App);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "redline runs in the browser: `make serve` builds it with trunk and serves it.\n\
         For a terminal view of the simulator: cargo run --release --example terminal"
    );
}
