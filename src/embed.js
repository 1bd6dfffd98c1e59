// The JavaScript face of an embedded redline dashboard (used by src/embed.rs).
//
// record() is called often, so it stays in JavaScript: module names are interned once
// into small ids, and (id, latency, ok) triples are batched into one Float64Array that
// crosses into WebAssembly once per task (or when the batch is full).

let sheet = null;

/// Adopts redline's stylesheet into a document or shadow root, once.
export function adopt_styles(root, css) {
  if (sheet === null) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
  }
  if (!root.adoptedStyleSheets.includes(sheet)) {
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  }
}

const BATCH_VALUES = 3 * 4096;

/// The handle mount() returns, around the wasm-side instance.
export function wrap_handle(inner) {
  const ids = new Map();
  const batch = new Float64Array(BATCH_VALUES);
  let used = 0;
  let queued = false;
  let live = true;
  const flush = () => {
    queued = false;
    if (used > 0 && live) {
      const values = batch.subarray(0, used);
      used = 0;
      inner.record_batch(values);
    }
  };
  const alive = () => {
    if (!live) {
      throw new Error("redline: this dashboard was unmounted");
    }
  };
  return Object.freeze({
    /// Records one finished request; false when the module name was refused.
    record(module, latency, ok = true) {
      alive();
      let id = ids.get(module);
      if (id === undefined) {
        id = inner.intern(String(module));
        if (id < 0) {
          return false;
        }
        ids.set(module, id);
      }
      batch[used] = id;
      batch[used + 1] = latency;
      batch[used + 2] = ok ? 1 : 0;
      used += 3;
      if (used === BATCH_VALUES) {
        flush();
      } else if (!queued) {
        queued = true;
        queueMicrotask(flush);
      }
      return true;
    },
    /// The dashboard JSON of the last closed tick (the spec's structure), or null
    /// while the config is still loading.
    snapshot() {
      alive();
      flush();
      return inner.snapshot();
    },
    /// Calls `callback` with every alert transition; returns a function that stops it.
    on(event, callback) {
      alive();
      const id = inner.on(String(event), callback);
      return () => inner.off(id);
    },
    /// Watches `modules` for `durationSeconds`: a Promise of the dashboard JSON.
    monitorModules(modules, durationSeconds) {
      alive();
      flush();
      return inner.monitor_modules(Array.from(modules ?? [], String), Number(durationSeconds));
    },
    /// Counts of what this handle refused (bad names, bad values, modules past the cap).
    status() {
      alive();
      flush();
      return inner.status();
    },
    /// Stops the dashboard and frees it; the handle cannot be used afterwards.
    unmount() {
      if (!live) {
        return;
      }
      flush();
      live = false;
      ids.clear();
      inner.unmount();
      inner.free();
    },
  });
}

/// Defines <redline-dashboard config="url-or-inline-json" theme="light|dark">.
export function define_element(mount) {
  if (customElements.get("redline-dashboard")) {
    return;
  }
  class RedlineDashboard extends HTMLElement {
    #handle = null;
    #stopAlerts = null;

    static get observedAttributes() {
      return ["config", "theme"];
    }

    connectedCallback() {
      if (this.#handle === null) {
        this.#start();
      }
    }

    disconnectedCallback() {
      // A move within the page disconnects and reconnects at once: keep the instance.
      queueMicrotask(() => {
        if (!this.isConnected) {
          this.#stop();
        }
      });
    }

    attributeChangedCallback(_name, before, after) {
      if (this.#handle !== null && before !== after) {
        this.#stop();
        this.#start();
      }
    }

    #start() {
      this.#handle = mount(this, this.getAttribute("config"));
      this.#stopAlerts = this.#handle.on("alert", (detail) =>
        this.dispatchEvent(new CustomEvent("alert", { detail })),
      );
    }

    #stop() {
      if (this.#handle !== null) {
        this.#stopAlerts();
        this.#handle.unmount();
        this.#handle = null;
      }
    }

    /// The JS API of this element's dashboard (null while disconnected).
    get dashboard() {
      return this.#handle;
    }
  }
  customElements.define("redline-dashboard", RedlineDashboard);
}

/// Calls `callback(value)` after the current task, so host callbacks never run inside
/// the dashboard's own update.
export function call_later(callback, value) {
  queueMicrotask(() => callback(value));
}
