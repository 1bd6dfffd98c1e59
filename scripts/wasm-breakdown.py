#!/usr/bin/env python3
"""Where the bundle's wasm goes: the post-wasm-bindgen module, by area of the code.

`make build` leaves the linked module with its names in
target/wasm32-unknown-unknown/wasm-release/redline.wasm. This runs wasm-bindgen on
it (as trunk does), then `wasm-opt -Oz -g` (trunk's -Oz, keeping the names), and
sums twiggy's shallow sizes of the optimised functions and data by area: each of
redline's modules, serde's derived deserialisers, Leptos (tachys, reactive_graph),
core, alloc and the rest. The areas add up to the size trunk ships (within a few KB;
the names section itself is left out). Then twiggy's 25 largest items.

Usage: scripts/wasm-breakdown.py [linked.wasm]   (or `make wasm-breakdown`)
Needs wasm-bindgen, wasm-opt (.tools/) and twiggy (`cargo install twiggy`) on PATH.
"""

import csv
import gzip
import io
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINKED = REPO / "target/wasm32-unknown-unknown/wasm-release/redline.wasm"


def area(name: str) -> str:
    """The area of the code one twiggy item belongs to."""
    if name.startswith("data segment"):
        return "data (strings, tables, vtables, the stylesheet)"
    if "Deserializ" in name or "de::Visitor" in name or "__FieldVisitor" in name:
        return "serde: deserialising (derived impls and serde_json's parser)"
    if "Serializ" in name:
        return "serde: serialising"
    # `<T as tachys::…>`, `<&mut serde_json::…>`: the first path names the crate.
    bare = re.sub(r"^(?:<|&|\*|mut |dyn |[A-Z][A-Za-z0-9_]* as )+", "", name)
    crate = re.match(r"([a-z_][a-z_0-9]*)(?:\[[0-9a-f]+\])?::", bare)
    if crate is None:
        return "unnamed (glue, shims, tables)"
    crate = crate.group(1)
    if crate == "redline":
        module = re.match(r"redline::([a-z_0-9]+)", bare)
        return f"redline::{module.group(1) if module else '?'}"
    if crate == "core" and "::sort::" in name:
        return "core: slice sorts (one per element type and order)"
    if crate == "core" and "drop_in_place" in name:
        return "core: drop glue"
    if crate in ("core", "alloc", "std", "compiler_builtins", "dlmalloc"):
        return f"{crate}: other"
    if crate in ("tachys", "reactive_graph", "leptos", "leptos_dom", "any_spawner", "or_poisoned"):
        return "leptos (tachys, reactive_graph, leptos)"
    return crate


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def main() -> None:
    linked = Path(sys.argv[1]) if len(sys.argv) > 1 else LINKED
    if not linked.exists():
        sys.exit(f"{linked} is missing: run `make build` first")
    with tempfile.TemporaryDirectory() as out:
        run("wasm-bindgen", "--target", "web", "--no-typescript", "--out-dir", out, str(linked))
        named = Path(out) / "named.wasm"
        run("wasm-opt", "-Oz", "-g", str(Path(out) / "redline_bg.wasm"), "-o", str(named))
        stripped = Path(out) / "stripped.wasm"
        run("wasm-opt", "-Oz", str(Path(out) / "redline_bg.wasm"), "-o", str(stripped))
        shipped = stripped.read_bytes()
        rows = list(csv.DictReader(io.StringIO(run("twiggy", "top", "-n", "1000000", "--format", "csv", str(named)))))
        top = run("twiggy", "top", "-n", "25", str(named))

    sizes: Counter[str] = Counter()
    for row in rows:
        name = row["Name"]
        if name.startswith('"function names"') or name.startswith("custom section"):
            continue
        sizes[area(name)] += int(row["ShallowSize"])
    total = sum(sizes.values())
    print(f"{linked.name} after wasm-bindgen and wasm-opt -Oz: {len(shipped)} bytes, "
          f"gzip -9 (Python's zlib) {len(gzip.compress(shipped, 9))} bytes\n")
    print(f"{'bytes':>9} {'share':>6}  area")
    for name, size in sizes.most_common():
        if size * 200 < total:
            continue
        print(f"{size:9d} {100 * size / total:5.1f}%  {name}")
    rest = sum(size for size in sizes.values() if size * 200 < total)
    print(f"{rest:9d} {100 * rest / total:5.1f}%  the rest (areas under 0.5 % each)")
    print(f"{total:9d} 100.0%  in all\n")
    print(top.split("\n", 1)[0])
    print("\n".join(line[:160] for line in top.splitlines()[1:]))


if __name__ == "__main__":
    main()
