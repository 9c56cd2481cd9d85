#!/usr/bin/env python3
"""Write the licence texts of the Rust crates compiled into one of marque's binaries.

    scripts/third-party-licenses.py MANIFEST TARGET OUT

MANIFEST is the Cargo.toml of the crate that becomes the binary (bindings-python/Cargo.toml,
bindings-node/Cargo.toml, bindings-wasm/Cargo.toml), TARGET its target triple. The crates are
what `cargo tree -e normal,no-proc-macro` shows for that crate and target with its default
features (no build, dev or proc-macro dependencies), the workspace's own crates left out (they
are under LICENSE). For each crate: its name, version and declared licence; then every licence
file the crates ship (LICENSE*, LICENCE*, COPYING*, NOTICE*, UNLICENSE*, COPYRIGHT*), texts that
differ only in whitespace written once. Offline when cargo's cache holds the crates.
scripts/build-python.sh and scripts/dist.sh put the result into each package that holds a binary
as third_party/THIRD-PARTY-LICENSES.txt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys

LICENCE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|UNLICENSE|COPYRIGHT)([-._].*)?$", re.IGNORECASE)


def cargo(*args: str) -> str:
    """Run cargo with the lock file as it is: offline first (cargo's cache), online if that fails."""
    for mode in (["--offline"], []):
        r = subprocess.run(["cargo", args[0], "--locked", *mode, *args[1:]], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout
    raise SystemExit(f"cargo {' '.join(args)} failed:\n{r.stderr}")


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    manifest, target, out = sys.argv[1:]
    meta = json.loads(cargo("metadata", "--format-version", "1", "--manifest-path", manifest,
                            "--filter-platform", target))
    root = next(p for p in meta["packages"]
                if os.path.realpath(p["manifest_path"]) == os.path.realpath(manifest))
    tree = cargo("tree", "--manifest-path", manifest, "-p", root["name"], "--target", target,
                 "-e", "normal,no-proc-macro", "--prefix", "none", "-f", "{p}")
    wanted = {tuple(line.split()[:2]) for line in tree.splitlines() if line.strip()}
    members = set(meta["workspace_members"])
    crates = sorted((p for p in meta["packages"]
                     if (p["name"], "v" + p["version"]) in wanted and p["id"] not in members),
                    key=lambda p: (p["name"], p["version"]))
    missing = wanted - {(p["name"], "v" + p["version"]) for p in meta["packages"]}
    if missing:
        raise SystemExit(f"cargo tree names crates cargo metadata does not know: {sorted(missing)}")

    texts: dict[str, tuple[str, list[str]]] = {}   # sha256 -> (text, ["crate version: file", …])
    lines, without = [], []
    for p in crates:
        label = f"{p['name']} {p['version']}"
        lines.append(f"  {label:<40} {p.get('license') or '(licence file only)'}")
        crate_dir = os.path.dirname(p["manifest_path"])
        files = sorted(f for f in os.listdir(crate_dir)
                       if LICENCE_FILE.match(f) and os.path.isfile(os.path.join(crate_dir, f)))
        if p.get("license_file"):
            files = sorted(set(files) | {os.path.normpath(p["license_file"])})
        if not files:
            without.append(label)
        for f in files:
            with open(os.path.join(crate_dir, f), encoding="utf-8", errors="replace") as fh:
                text = fh.read().strip() + "\n"
            # Texts that differ only in whitespace are one text.
            digest = hashlib.sha256(" ".join(text.split()).encode()).hexdigest()
            texts.setdefault(digest, (text, []))[1].append(f"{label}: {f}")

    with open(out, "w", encoding="utf-8") as fh:
        fh.write(f"Third-party Rust crates compiled into this package's binary ({target}), from Cargo.lock.\n"
                 "marque's own code is under LICENSE; the vendored biscuit-auth also under\n"
                 "third_party/biscuit-auth/LICENSE. Each crate is listed with the licence its manifest\n"
                 "declares, then every licence text the crates ship, each distinct text once.\n\n")
        fh.write("\n".join(lines) + "\n")
        if without:
            fh.write("\nThese crates ship no licence file; their manifests declare the licence listed above:\n")
            fh.write("".join(f"  {w}\n" for w in without))
        for text, users in sorted(texts.values(), key=lambda t: t[1][0]):
            fh.write("\n" + "=" * 100 + "\n")
            fh.write("".join(f"{u}\n" for u in users))
            fh.write("-" * 100 + "\n" + text)
    print(f"{out}: {len(crates)} crates, {len(texts)} distinct licence texts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
