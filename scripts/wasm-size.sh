#!/usr/bin/env bash
# The monitor core's contribution to a release .wasm: builds one tiny cdylib that
# records, ticks and snapshots to JSON through redline, and the same cdylib without
# the core, with the `wasm-release` profile from Cargo.toml, and prints raw and
# `gzip -9` sizes. The throwaway crate lives in a temporary folder; builds are cached
# in target/wasm-size. Usage: scripts/wasm-size.sh (or `make wasm-size`).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
target_triple=wasm32-unknown-unknown
target_dir="$repo/target/wasm-size"
out_dir="$target_dir/out"

if ! rustup target list --installed | grep -qx "$target_triple"; then
    rustup target add "$target_triple"
fi

crate="$(mktemp -d "${TMPDIR:-/tmp}/redline-wasm-size.XXXXXX")"
trap 'rm -rf "$crate"' EXIT
mkdir -p "$crate/src" "$out_dir"

# The profiles come from the repo's Cargo.toml, so the figures follow any change there.
profiles="$(awk '/^\[profile\.(release|wasm-release)\]/ {keep = 1; print; next} /^\[/ {keep = 0} keep' "$repo/Cargo.toml")"
serde_json_version="$(awk -F'"' '/^serde_json *=/ {print $2}' "$repo/Cargo.toml")"
serde_version="$(awk -F'"' '/^serde *=/ {print $2}' "$repo/Cargo.toml")"

cat > "$crate/Cargo.toml" <<EOF
[package]
name = "redline-wasm-size"
version = "0.0.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[features]
# No feature: std only. json: plus serde_json. core: plus the monitor core.
json = ["dep:serde", "dep:serde_json"]
core = ["json", "dep:redline"]
config = ["core"]

[dependencies]
redline = { path = "$repo", optional = true, default-features = false }
serde = { version = "$serde_version", features = ["derive"], optional = true }
serde_json = { version = "$serde_json_version", optional = true }

$profiles

[workspace]
EOF
# Same dependency versions as the repo.
cp "$repo/Cargo.lock" "$crate/Cargo.lock"

cat > "$crate/src/lib.rs" <<'EOF'
//! One C ABI, three bodies: std only, std + serde_json, and the redline core.
#![allow(clippy::missing_safety_doc)]

/// Allocates `len` bytes for the host to write a module name into.
#[unsafe(no_mangle)]
pub extern "C" fn rl_alloc(len: usize) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

unsafe fn name<'a>(ptr: *const u8, len: usize) -> &'a str {
    // SAFETY: the host passes a buffer from rl_alloc holding `len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    std::str::from_utf8(bytes).unwrap_or("invalid")
}

#[cfg(feature = "core")]
mod body {
    use redline::monitor::PerformanceMonitor;

    pub struct State {
        pub monitor: PerformanceMonitor,
        pub output: String,
    }

    pub fn new() -> State {
        State { monitor: PerformanceMonitor::default(), output: String::new() }
    }

    #[cfg(feature = "config")]
    pub fn with_config(json: &str) -> Option<State> {
        let config = redline::monitor::MonitorConfig::from_json(json).ok()?;
        Some(State { monitor: PerformanceMonitor::new(config), output: String::new() })
    }

    pub fn record(state: &mut State, module: &str, latency: f64, ok: bool, now: f64) -> i32 {
        state.monitor.record(module, latency, ok, now).map_or(-1, |id| id.index() as i32)
    }

    pub fn tick(state: &mut State, now: f64) -> u32 {
        state.monitor.tick(now).len() as u32
    }

    pub fn snapshot(state: &mut State, now: f64) -> usize {
        state.output = state.monitor.dashboard_json(now);
        state.output.len()
    }
}

/// The baselines share everything but how they write the snapshot.
#[cfg(not(feature = "core"))]
mod body {
    use std::collections::BTreeMap;

    pub struct State {
        pub modules: BTreeMap<String, (u64, f64)>,
        pub output: String,
    }

    pub fn new() -> State {
        State { modules: BTreeMap::new(), output: String::new() }
    }

    pub fn record(state: &mut State, module: &str, latency: f64, _ok: bool, _now: f64) -> i32 {
        let entry = state.modules.entry(module.to_owned()).or_default();
        entry.0 += 1;
        entry.1 += latency;
        state.modules.len() as i32
    }

    pub fn tick(state: &mut State, _now: f64) -> u32 {
        state.modules.len() as u32
    }

    #[cfg(feature = "json")]
    pub fn snapshot(state: &mut State, now: f64) -> usize {
        #[derive(serde::Serialize)]
        struct Summary {
            timestamp: f64,
            modules: BTreeMap<String, (u64, f64)>,
        }
        let summary = Summary { timestamp: now, modules: state.modules.clone() };
        state.output = serde_json::to_string(&summary).unwrap_or_default();
        state.output.len()
    }

    #[cfg(not(feature = "json"))]
    pub fn snapshot(state: &mut State, now: f64) -> usize {
        use std::fmt::Write;
        state.output.clear();
        // Integer formatting only: float formatting alone would add about 10 KiB.
        let _ = write!(state.output, "{{\"timestamp\":{}}}", now as u64);
        state.output.len()
    }
}

/// A new monitor (or stand-in), owned by the host.
#[unsafe(no_mangle)]
pub extern "C" fn rl_new() -> *mut body::State {
    Box::into_raw(Box::new(body::new()))
}

/// A new monitor from JSON settings; null when they are invalid.
#[cfg(feature = "config")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rl_new_with_config(ptr: *const u8, len: usize) -> *mut body::State {
    // SAFETY: as for `name`.
    let json = unsafe { name(ptr, len) };
    body::with_config(json).map_or(std::ptr::null_mut(), |state| Box::into_raw(Box::new(state)))
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn rl_record(
    state: *mut body::State,
    name_ptr: *const u8,
    name_len: usize,
    latency: f64,
    ok: u32,
    now: f64,
) -> i32 {
    // SAFETY: `state` came from rl_new and the host does not share it.
    let state = unsafe { &mut *state };
    // SAFETY: as for `name`.
    let module = unsafe { name(name_ptr, name_len) };
    body::record(state, module, latency, ok != 0, now)
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn rl_tick(state: *mut body::State, now: f64) -> u32 {
    // SAFETY: as in rl_record.
    body::tick(unsafe { &mut *state }, now)
}

/// Builds the dashboard JSON; returns its length (read it at rl_output).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rl_snapshot(state: *mut body::State, now: f64) -> usize {
    // SAFETY: as in rl_record.
    body::snapshot(unsafe { &mut *state }, now)
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn rl_output(state: *const body::State) -> *const u8 {
    // SAFETY: as in rl_record.
    unsafe { &*state }.output.as_ptr()
}
EOF

wasm_opt="$(command -v wasm-opt || true)"
declare -A raw gz strip_raw strip_gz opt_raw opt_gz
variants=(bare json core config)
build() { # variant, output file, extra environment
    local variant="$1" output="$2"
    shift 2
    local features=()
    [[ "$variant" != bare ]] && features=(--features "$variant")
    env "$@" cargo build --quiet --manifest-path "$crate/Cargo.toml" --target "$target_triple" \
        --profile wasm-release --target-dir "$target_dir" "${features[@]}"
    cp "$target_dir/$target_triple/wasm-release/redline_wasm_size.wasm" "$output"
}
for variant in "${variants[@]}"; do
    wasm="$out_dir/$variant.wasm"
    build "$variant" "$wasm"
    raw[$variant]=$(stat -c %s "$wasm")
    gz[$variant]=$(gzip -9 -c "$wasm" | wc -c)
    # Without the symbol-name section, as wasm-opt leaves it (and as DEPENDENCIES.md measured).
    stripped="$out_dir/$variant.stripped.wasm"
    build "$variant" "$stripped" CARGO_PROFILE_WASM_RELEASE_STRIP=symbols
    strip_raw[$variant]=$(stat -c %s "$stripped")
    strip_gz[$variant]=$(gzip -9 -c "$stripped" | wc -c)
    if [[ -n "$wasm_opt" ]]; then
        "$wasm_opt" -Oz "$wasm" -o "$out_dir/$variant.opt.wasm"
        opt_raw[$variant]=$(stat -c %s "$out_dir/$variant.opt.wasm")
        opt_gz[$variant]=$(gzip -9 -c "$out_dir/$variant.opt.wasm" | wc -c)
    fi
done

kib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }

echo "wasm32-unknown-unknown, profile wasm-release (opt-level z, lto, codegen-units 1, panic abort)"
if [[ -z "$wasm_opt" ]]; then
    echo "wasm-opt: not on PATH, so these sizes are without wasm-opt -Oz (expect them smaller with it)"
fi
echo
printf '| %-46s | %9s | %9s | %11s | %11s |' "cdylib" "raw B" "gzip -9 B" "stripped B" "stripped gz"
[[ -n "$wasm_opt" ]] && printf ' %9s | %9s |' "-Oz B" "-Oz gz B"
echo
printf '|%s|%s|%s|%s|%s|' "---" "---:" "---:" "---:" "---:"
[[ -n "$wasm_opt" ]] && printf '%s|%s|' "---:" "---:"
echo
label() {
    case "$1" in
        bare) echo "bare: same exports, std only" ;;
        json) echo "json: same exports, std + serde_json" ;;
        core) echo "core: record, tick, dashboard_json via redline" ;;
        config) echo "core + MonitorConfig::from_json" ;;
    esac
}
for variant in "${variants[@]}"; do
    printf '| %-46s | %9d | %9d | %11d | %11d |' "$(label "$variant")" "${raw[$variant]}" "${gz[$variant]}" \
        "${strip_raw[$variant]}" "${strip_gz[$variant]}"
    [[ -n "$wasm_opt" ]] && printf ' %9d | %9d |' "${opt_raw[$variant]}" "${opt_gz[$variant]}"
    echo
done
echo
for base in bare json; do
    for variant in core config; do
        delta_raw=$((raw[$variant] - raw[$base]))
        delta_gz=$((gz[$variant] - gz[$base]))
        delta_strip_raw=$((strip_raw[$variant] - strip_raw[$base]))
        delta_strip_gz=$((strip_gz[$variant] - strip_gz[$base]))
        echo "$variant - $base: $(kib "$delta_raw") KiB raw, $(kib "$delta_gz") KiB gzip;" \
            "stripped $(kib "$delta_strip_raw") KiB raw, $(kib "$delta_strip_gz") KiB gzip"
    done
done
limit=$((150 * 1024))
delta=$((gz[core] - gz[bare]))
if (( delta <= limit )); then
    echo "target: the core adds <= 150 KiB gzip: met ($(kib "$delta") KiB over the std-only cdylib)"
else
    echo "target: the core adds <= 150 KiB gzip: MISSED ($(kib "$delta") KiB over the std-only cdylib)"
fi
echo "files: $out_dir"
