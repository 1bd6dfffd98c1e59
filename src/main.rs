//! The app's entry point: a panic hook that shows an error panel, then the dashboard.

#[cfg(target_arch = "wasm32")]
fn main() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        redline::platform::show_fatal_error(&info.to_string());
    }));
    leptos::mount::mount_to_body(redline::app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "redline runs in the browser: `make serve` builds it with trunk and serves it.\n\
         For a terminal view of the simulator: cargo run --release --example terminal"
    );
}
