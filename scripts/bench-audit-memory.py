#!/usr/bin/env python3
"""Memory of a long-running audit writer: appends N signed envelopes to a marque.AuditFile (the
durable writer the MCP guards use) and prints the process RSS at intervals. Not a timed test:
run it by hand, e.g. `.venv/bin/python scripts/bench-audit-memory.py 1000000`, and record the
numbers in docs/BENCH.md. With `--in-memory` it appends to marque.AuditLog instead, to show the
growth the durable writer removes.

usage: bench-audit-memory.py [N] [--in-memory] [--dir DIR] [--max-bytes BYTES]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import marque


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--in-memory", action="store_true")
    ap.add_argument("--dir")
    ap.add_argument("--max-bytes", type=int, default=64 << 20)
    args = ap.parse_args()
    signer = marque.KeyPair.from_hex("07" * 32)
    tmp = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="marque-bench-audit-"))
    log: marque.AuditFile | marque.AuditLog
    if args.in_memory:
        log = marque.AuditLog()
    else:
        log = marque.AuditFile(tmp / "audit.jsonl", signer.public_key, max_bytes=args.max_bytes, fsync="never")
    event = dict(event_type="authorization", agent_id="agent:reader", action="read_file", resource="src/lib.rs",
                 decision="allow", timestamp=1_700_000_000, principal="user:alice", policy_id="marque:rights",
                 agent_key_fingerprint=signer.public_key.fingerprint,
                 chain=["agent:orchestrator", "agent:reader"])
    step = max(args.n // 10, 1)
    start = time.perf_counter()
    print(f"{'entries':>9}  {'rss MiB':>8}  {'s':>6}  ({'AuditLog in memory' if args.in_memory else 'AuditFile ' + str(tmp)})")
    print(f"{0:>9}  {rss_mib():>8.1f}  {0:>6.1f}")
    for i in range(1, args.n + 1):
        event["timestamp"] = 1_700_000_000 + i // 100
        log.append(signer, event)
        if i % step == 0:
            print(f"{i:>9}  {rss_mib():>8.1f}  {time.perf_counter() - start:>6.1f}", flush=True)
    if isinstance(log, marque.AuditFile):
        files = log.files()
        head = log.head
        log.close()
        size = sum(f.stat().st_size for f in files)
        t = time.perf_counter()
        report = marque.verify_audit_file(files, signer.public_key, head)
        print(f"{len(files)} files, {size / 2**20:.0f} MiB; verify: ok={report.ok} entries={report.entries} "
              f"in {time.perf_counter() - t:.1f}s; rss {rss_mib():.1f} MiB")
        if not args.dir:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
