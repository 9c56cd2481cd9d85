#!/usr/bin/env python3
"""Diffs vendor/biscuit-auth against the crates.io release it modifies; fails on an unmarked change.

    scripts/check-vendor.py UPSTREAM.crate [VENDOR_DIR] [README]

Every changed hunk of every file must carry a `marque fork` marker on one of its lines or within
the three lines above it (a comment introducing the change), every changed or added file must be
named in vendor/README.md, and the only upstream files left out are the test, bench, example and
sample trees and the packaging metadata (vendor/README.md, first paragraph). Called by
scripts/check-upstream.sh (scripts/test.sh), which downloads and checks the release.
"""
import difflib
import io
import os
import sys
import tarfile

MARKER = "marque fork"
WINDOW = 3  # a marker this many lines above a hunk covers it
# Upstream's crate files marque does not vendor (vendor/README.md says so).
LEFT_OUT_DIRS = ("tests/", "benches/", "examples/", "samples/")
LEFT_OUT_FILES = {"CHANGELOG.md", "Cargo.lock", "Cargo.toml.orig", ".cargo_vcs_info.json"}


def crate_files(path):
    files = {}
    with tarfile.open(path, "r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                rel = m.name.split("/", 1)[1]
                files[rel] = tar.extractfile(m).read()
    return files


def vendor_files(root):
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, root).replace(os.sep, "/")] = f.read()
    return files


def lines(data):
    return io.StringIO(data.decode("utf-8")).read().splitlines()


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    vendor = argv[2] if len(argv) > 2 else os.path.join(repo, "vendor", "biscuit-auth")
    readme_path = argv[3] if len(argv) > 3 else os.path.join(repo, "vendor", "README.md")
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    upstream, ours = crate_files(argv[1]), vendor_files(vendor)
    problems = []
    for rel in sorted(set(upstream) - set(ours)):
        if rel not in LEFT_OUT_FILES and not rel.startswith(LEFT_OUT_DIRS):
            problems.append(f"{rel}: upstream file missing from vendor/ (not one of the left-out trees)")
    changed = 0
    for rel in sorted(ours):
        if rel not in upstream:
            if f"`{rel}`" not in readme:
                problems.append(f"{rel}: file added by the fork but not listed in vendor/README.md")
            elif MARKER not in ours[rel].decode("utf-8", "replace"):
                problems.append(f"{rel}: file added by the fork without a `{MARKER}` marker")
            changed += 1
            continue
        if ours[rel] == upstream[rel]:
            continue
        changed += 1
        if f"`{rel}`" not in readme:
            problems.append(f"{rel}: changed by the fork but not listed in vendor/README.md")
        a, b = lines(upstream[rel]), lines(ours[rel])
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag == "equal":
                continue
            if not any(MARKER in line for line in b[max(0, j1 - WINDOW):j2]):
                shown = "\n".join(["  - " + x for x in a[i1:i2]] + ["  + " + x for x in b[j1:j2]])
                problems.append(f"{rel}:{j1 + 1}: change without a `{MARKER}` marker:\n{shown}")
    if problems:
        print("vendor/biscuit-auth differs from crates.io's biscuit-auth 6.0.0 without saying so:", file=sys.stderr)
        for p in problems:
            print(" * " + p, file=sys.stderr)
        return 1
    print(f"check-vendor: vendor/biscuit-auth = upstream + {changed} marked, listed files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
