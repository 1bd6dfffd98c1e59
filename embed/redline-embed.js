// Embeds redline in any page. Load it from beside the bundle's redline.js:
//   <script type="module" src="https://your.host/redline/redline-embed.js"></script>
//   <redline-dashboard config="redline.json"></redline-dashboard>
// or, for the JS API:
//   import { mount } from "https://your.host/redline/redline-embed.js";
//   const dashboard = mount(document.querySelector("#perf"), { monitor: { window_seconds: 60 } });
// `wasm` is the WebAssembly instance's exports (its memory, for measurements).
import init, { mount } from "./redline.js";

const wasm = await init();

export { mount, wasm };
