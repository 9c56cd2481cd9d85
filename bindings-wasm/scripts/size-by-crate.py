#!/usr/bin/env python3
"""Where a .wasm module's bytes go, by crate: the size of every function body (code section)
grouped by the crate its name starts with, plus the data segments. Needs a module with a name
section: `scripts/build-wasm.sh --names` builds the shipped module (same cargo output, same
wasm-opt passes) keeping it, in bindings-wasm/pkg-names/.

    python3 bindings-wasm/scripts/size-by-crate.py bindings-wasm/pkg-names/marque_wasm_bg.wasm [BASELINE.wasm]
    python3 bindings-wasm/scripts/size-by-crate.py --modules marque CUR.wasm [BASELINE.wasm]

`--modules CRATE` splits one crate by its top-level module instead (v0-mangled names: cargo's
own output, target/wasm/wasm32-unknown-unknown/wasm-release/marque_wasm.wasm).

With a baseline, more columns show the change per crate. Sizes are raw bytes of the function
bodies (gzip shrinks every crate by roughly the same factor); a name
like `<marque::x::Y as core::fmt::Debug>::fmt` counts for the crate of the type (`marque`), and
`core::ptr::drop_in_place<marque::x::Y>` for `core` (as twiggy does), so generic std code
instantiated for a crate is not attributed to it.
"""
import re
import sys
from collections import Counter


def leb(buf, i):
    out = shift = 0
    while True:
        b = buf[i]
        i += 1
        out |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return out, i


MODULES_OF = None  # --modules CRATE


def parse(path):
    buf = open(path, "rb").read()
    if buf[:4] != b"\0asm":
        sys.exit(f"{path}: not a wasm module")
    i = 8
    imported_funcs = 0
    bodies = []
    data = 0
    names = {}
    while i < len(buf):
        sid = buf[i]
        size, i = leb(buf, i + 1)
        end = i + size
        if sid == 2:  # imports: function imports shift the function index space
            n, j = leb(buf, i)
            for _ in range(n):
                for _ in range(2):
                    ln, j = leb(buf, j)
                    j += ln
                kind = buf[j]
                j += 1
                if kind == 0:
                    _, j = leb(buf, j)
                    imported_funcs += 1
                elif kind == 1:
                    j += 1
                    flags, j = leb(buf, j)
                    _, j = leb(buf, j)
                    if flags & 1:
                        _, j = leb(buf, j)
                elif kind == 2:
                    flags, j = leb(buf, j)
                    _, j = leb(buf, j)
                    if flags & 1:
                        _, j = leb(buf, j)
                elif kind == 3:
                    j += 2
        elif sid == 10:
            n, j = leb(buf, i)
            for _ in range(n):
                ln, j = leb(buf, j)
                bodies.append(ln)
                j += ln
        elif sid == 11:
            data = size
        elif sid == 0:
            ln, j = leb(buf, i)
            name = buf[j : j + ln].decode()
            j += ln
            if name == "name":
                while j < end:
                    sub = buf[j]
                    sl, j = leb(buf, j + 1)
                    send = j + sl
                    if sub == 1:
                        n, k = leb(buf, j)
                        for _ in range(n):
                            idx, k = leb(buf, k)
                            nl, k = leb(buf, k)
                            names[idx] = buf[k : k + nl].decode("utf-8", "replace")
                            k += nl
                    j = send
        i = end
    if not names:
        sys.exit(f"{path}: no name section (use the module before wasm-opt --strip-debug)")
    sizes = Counter()
    for n, ln in enumerate(bodies):  # (a body without a name is "?": none in rustc's output)
        name = names.get(imported_funcs + n, "?")
        crate = crate_of(name)
        if MODULES_OF is not None:
            if crate != MODULES_OF:
                continue
            crate = module_of(name, crate)
        sizes[crate] += ln
    if MODULES_OF is None:
        sizes["(data segments)"] = data
    return sizes, len(buf)


def crate_of(name):
    if name.startswith("_R"):  # Rust v0 mangling: the first crate root, `C[s<hash>_]<len><name>`
        m = re.search(r"C(?:s[0-9A-Za-z]*_)?(\d+)", name[2:])
        if m:
            start = 2 + m.end()
            return norm(name[start : start + int(m.group(1))])
        return "(other)"
    if name.startswith("_ZN"):  # legacy mangling: the first path segment
        m = re.match(r"_ZN(\d+)", name)
        return norm(name[m.end() : m.end() + int(m.group(1))]) if m else "(other)"
    if " shim" in name or name.startswith("__wbg") or name.startswith("__wbindgen"):
        # wasm-bindgen's export adapters; after wasm-opt they hold the binding's exported
        # functions inlined into them (so compare cargo's own outputs for a per-crate story).
        return "(exports: wasm-bindgen shims)"
    name = re.sub(r"^(dyn |mut |const |[<&*(])+", "", name)
    # Demangled names, with or without the crate hash: `serde_json[333510efc9904]::de::...`.
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(\[[0-9a-f]+\])?(::|<| as )", name)
    return norm(m.group(1)) if m else "(other)"


def module_of(name, crate):
    """The first path segment after the crate, from a v0-mangled name (`Nt<crate root><len><module>`)."""
    m = re.search(r"C(?:s[0-9A-Za-z]*_)?" + str(len(crate)) + crate + r"(\d+)", name)
    if m:
        return crate + "::" + name[m.end() : m.end() + int(m.group(1))]
    return crate + " (impl or generic)"


def norm(crate):
    return "wasm_bindgen" if crate in ("wasm_bindgen", "js_sys") else crate


def main():
    global MODULES_OF
    args = sys.argv[1:]
    if args[:1] == ["--modules"] and len(args) >= 2:
        MODULES_OF, args = args[1], args[2:]
    if len(args) not in (1, 2):
        sys.exit(__doc__)
    cur, total = parse(args[0])
    base, btotal = parse(args[1]) if len(args) == 2 else (None, None)
    keys = sorted(set(cur) | set(base or {}), key=lambda k: -cur.get(k, 0))
    print(f"{'crate':28} {'bytes':>10}" + (f" {'baseline':>10} {'change':>9}" if base else ""))
    for k in keys:
        line = f"{k:28} {cur.get(k, 0):>10,}"
        if base is not None:
            line += f" {base.get(k, 0):>10,} {cur.get(k, 0) - base.get(k, 0):>+9,}"
        print(line)
    line = f"{'module (whole file)':28} {total:>10,}"
    if base is not None:
        line += f" {btotal:>10,} {total - btotal:>+9,}"
    print(line)


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # piped into head
        pass
