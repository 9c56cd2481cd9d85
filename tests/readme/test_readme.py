"""Every code block of README.md is executed (or, for the two set-up commands, checked).

- ```rust blocks: compiled and run as doctests of the core (`ReadmeDoctests` in core/src/lib.rs,
  run by `cargo test`); this file checks the inclusion is in place.
- the two commands: the scripts exist and `.ci/run` runs the second one.
- the install block: run as written in a fresh directory whose `dist/` is the repository's
  (`scripts/dist.sh`, built by the suite before this one), offline (no index, no registry);
- the Python block: run by the Python of the venv the install block made (the installed wheel);
- the Node MCP server block: served on a free loopback port from the installed `@marque/node`,
  then called by the real MCP SDK client (`readme_mcp_client.mjs`): one allowed call, one denied;
- the Wasm edge block: the Workers-style module driven with real `Request`s in front of a loopback
  upstream (`readme_edge_driver.mjs`);
- the CLI block: run as written (bash -e) with the `marque` built by the Rust suite.

With `CI` set, a missing prerequisite (dist/, the CLI, node) fails instead of skipping.
"""
from __future__ import annotations

import os
import pathlib
import re
import shutil
import socket
import subprocess
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
README = (REPO / "README.md").read_text()
FENCE = re.compile(r"(?:<!-- readme: ([^>]*) -->\n)?```(\w*)\n(.*?)```", re.S)
BLOCKS = [(m.group(2), m.group(3), m.group(1)) for m in FENCE.finditer(README)]
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "npm_config_offline": "true",
           "npm_config_registry": "http://127.0.0.1:9/", "npm_config_audit": "false", "npm_config_fund": "false",
           "npm_config_update_notifier": "false"}


def missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI is set: a missing prerequisite fails)")
    pytest.skip(what)


def only(pred) -> str:
    found = [code for lang, code, tag in BLOCKS if pred(lang, code, tag)]
    assert len(found) == 1, f"expected one such block in README.md, found {len(found)}"
    return found[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], cwd: pathlib.Path, env: dict[str, str] | None = None, timeout: int = 300) -> str:
    p = subprocess.run(cmd, cwd=cwd, env={**os.environ, **OFFLINE, **(env or {})}, capture_output=True,
                       text=True, timeout=timeout)
    assert p.returncode == 0, f"{cmd[:2]} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p.stdout


def test_every_block_is_covered() -> None:
    # `text` blocks are pictures (the fleet diagram), not code: nothing to run.
    kinds = {"rust", "python", "js", "sh", "text"}
    assert BLOCKS and all(lang in kinds for lang, _, _ in BLOCKS), [lang for lang, _, _ in BLOCKS]
    covered = sum(lang in ("rust", "text") for lang, _, _ in BLOCKS) + 6  # rust blocks, pictures + the six below
    assert len(BLOCKS) == covered, "a README block this test does not run: add it here"


def test_rust_blocks_are_doctests() -> None:
    assert any(lang == "rust" for lang, _, _ in BLOCKS)
    lib = (REPO / "core/src/lib.rs").read_text()
    assert '#[doc = include_str!("../../README.md")]' in lib and "#[cfg(doctest)]" in lib


def test_the_two_commands() -> None:
    code = only(lambda lang, code, tag: tag is not None and "two commands" in tag)
    commands = [line.split("#")[0].strip() for line in code.splitlines()]
    assert commands == ["./scripts/setup.sh", "./scripts/test.sh"]
    for c in commands:
        assert os.access(REPO / c, os.X_OK), c
    assert "exec ./scripts/test.sh" in (REPO / ".ci/run").read_text()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A fresh directory where the install block ran as written."""
    dist = REPO / "dist"
    if not (list(dist.glob("marque-*.whl")) and list(dist.glob("marque-node-*.tgz")) and list(dist.glob("marque-wasm-*.tgz"))):
        missing("dist/ has no packages: run scripts/dist.sh")
    d = tmp_path_factory.mktemp("readme-project")
    (d / "dist").symlink_to(dist)
    run(["bash", "-euo", "pipefail", "-c", only(lambda lang, code, tag: lang == "sh" and "pip install dist/" in code)], d)
    # What the Node quick start says to npm install beside @marque/node: the repository's copies.
    for dep in ["express", "zod", "@modelcontextprotocol"]:
        link = d / "node_modules" / dep
        if not link.exists():
            link.symlink_to(REPO / "bindings-node/node_modules" / dep)
    return d


def test_install_block_installed_every_package(project: pathlib.Path) -> None:
    out = run([str(project / ".venv/bin/python"), "-c", "import marque, pathlib; print(pathlib.Path(marque.__file__))"], project)
    assert str(project) in out, out  # the installed wheel, not the repository's build
    for pkg in ["@marque/node", "@marque/wasm"]:
        assert (project / "node_modules" / pkg / "package.json").is_file(), pkg
        assert not (project / "node_modules" / pkg).is_symlink(), f"{pkg} is installed, not linked"


def test_python_quick_start(project: pathlib.Path) -> None:
    code = only(lambda lang, code, tag: lang == "python")
    run([str(project / ".venv/bin/python"), "-c", code], project)


def test_node_mcp_server_quick_start(project: pathlib.Path) -> None:
    if shutil.which("node") is None:
        missing("node is not installed")
    (project / "server.mjs").write_text(only(lambda lang, code, tag: lang == "js" and "@marque/node" in code))
    shutil.copy(HERE / "readme_mcp_client.mjs", project / "client.mjs")
    root_pub = run(["node", "-e", "import('@marque/node').then(m => console.log(m.KeyPair.fromSeed(new Uint8Array(32).fill(1)).publicKey.toHex()))"], project).strip()
    port = free_port()
    server = subprocess.Popen(["node", "server.mjs"], cwd=project, env={**os.environ, "PORT": str(port), "MARQUE_ROOT_PUB": root_pub},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, f"the server exited: {server.stdout.read() if server.stdout else ''}"
                assert time.monotonic() < deadline, "the server did not listen"
                time.sleep(0.2)
        out = run(["node", "client.mjs", f"http://127.0.0.1:{port}/mcp"], project, timeout=60)
        assert "allowed: contents of src/app.js" in out and "denied: not_authorized" in out, out
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_wasm_edge_quick_start(project: pathlib.Path) -> None:
    if shutil.which("node") is None:
        missing("node is not installed")
    (project / "worker.mjs").write_text(only(lambda lang, code, tag: lang == "js" and "@marque/wasm" in code))
    shutil.copy(HERE / "readme_edge_driver.mjs", project / "driver.mjs")
    out = run(["node", "driver.mjs"], project, timeout=60)
    assert "allowed: 200 upstream saw read_file src/a.rs" in out and "denied: 403" in out and "no token: 401" in out, out


def test_cli_block(tmp_path: pathlib.Path) -> None:
    binary = os.environ.get("MARQUE_BIN") or str(REPO / "target/debug/marque")
    if not os.access(binary, os.X_OK):
        missing(f"the CLI is not built ({binary})")
    code = only(lambda lang, code, tag: lang == "sh" and "marque keygen" in code)
    path = f"{pathlib.Path(binary).parent}:{os.environ['PATH']}"
    out = run(["bash", "-euo", "pipefail", "-c", code], tmp_path, env={"PATH": path}, timeout=120)
    assert '"allowed":true' in out and '"allowed":false' in out, out
