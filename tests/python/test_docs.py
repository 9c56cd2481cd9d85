"""Documentation: every public name has a docstring, and the README example and the demo run."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import marque

ROOT = Path(__file__).resolve().parents[2]
DUNDER_OK = {"__new__", "__init__"}


def public_members(obj: object) -> list[tuple[str, object]]:
    out = []
    for name, value in vars(obj).items():
        if name.startswith("_"):
            continue
        out.append((name, value))
    return out


@pytest.mark.parametrize("name", sorted(n for n in marque.__all__ if not n.isupper() and n != "__version__"))
def test_every_public_name_is_documented(name: str) -> None:
    obj = getattr(marque, name)
    if name in ("ErrorCode", "ProblemKind"):
        return  # typing.Literal aliases; documented by the comment next to them
    assert (obj.__doc__ or "").strip(), f"marque.{name} has no docstring"
    if inspect.isclass(obj) and not issubclass(obj, BaseException):
        for member, value in public_members(obj):
            if not (callable(value) or hasattr(value, "__get__")) or value is None:
                continue  # plain data (dataclass field defaults)
            doc = getattr(value, "__doc__", None)
            if isinstance(value, (classmethod, staticmethod)):
                doc = value.__func__.__doc__
            assert (doc or "").strip(), f"marque.{name}.{member} has no docstring"


def test_mcp_module_is_documented() -> None:
    pytest.importorskip("mcp")
    import marque.mcp as m

    assert m.__doc__
    for name in m.__all__:
        obj = getattr(m, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"marque.mcp.{name} has no docstring"


def test_readme_example_runs() -> None:
    readme = (ROOT / "bindings-python" / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "no python example in the README"
    code = blocks[0]
    assert len(code.strip().splitlines()) <= 30
    exec(compile(code, "README.md", "exec"), {})


def test_demo_runs() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py")], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "ALLOWED" in r.stdout and "DENIED (not_authorized)" in r.stdout and "DENIED (revoked)" in r.stdout
    assert "DENIED (approval_required)" in r.stdout and "DENIED (budget_exhausted)" in r.stdout


def test_root_readme_python_quick_start_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "no python quick start in the top-level README"
    exec(compile(blocks[0], "README.md", "exec"), {})
