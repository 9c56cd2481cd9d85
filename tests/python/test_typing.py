"""Types: mypy --strict on a user script and on the package; stubs checked against the binary."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE = HERE.parents[1] / "bindings-python" / "python" / "marque"

pytest.importorskip("mypy")


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.10", *args],
        capture_output=True, text=True, cwd=HERE,
    )


def test_user_script_type_checks_strictly() -> None:
    r = mypy(str(HERE / "typed_usage.py"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_user_script_runs() -> None:
    r = subprocess.run([sys.executable, str(HERE / "typed_usage.py")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "revoked: revoked" in r.stdout


def test_wrong_usage_is_caught_by_mypy(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import marque\n"
        "k = marque.KeyPair.generate()\n"
        "marque.mint(k, agent='agent:a', agent_key=k.public_key)\n"  # missing principal
        "v = marque.Verifier([k.public_key])\n"
        "d = v.authorize('t', tool='x', resource=1)\n"  # resource must be str
        "x: int = d.allowed_typo\n"
    )
    r = mypy(str(bad))
    assert r.returncode == 1
    assert 'Missing named argument "principal"' in r.stdout
    assert 'Argument "resource"' in r.stdout
    assert "allowed_typo" in r.stdout


def test_installed_package_type_checks_strictly() -> None:
    import marque

    installed = pathlib.Path(marque.__file__).parent
    r = mypy("-p", "marque") if installed.parent.name == "site-packages" else mypy(str(installed))
    assert r.returncode == 0, r.stdout + r.stderr


def test_stubs_match_the_binary() -> None:
    r = subprocess.run([sys.executable, "-m", "mypy.stubtest", "marque._native"], capture_output=True, text=True,
                       cwd="/")
    assert r.returncode == 0, r.stdout + r.stderr


def test_package_ships_py_typed_and_stubs() -> None:
    import marque

    installed = pathlib.Path(marque.__file__).parent
    assert (installed / "py.typed").exists()
    assert (installed / "_native.pyi").exists()
