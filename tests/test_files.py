"""The package's one way to write files: atomic, world-readable, nothing left behind."""

from __future__ import annotations

import os

import pytest

from cxtradeoff.files import atomic_write_bytes, atomic_write_json, move_into_place


@pytest.fixture
def strict_umask():
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("strict_umask")
def test_outputs_are_world_readable_whatever_the_umask(tmp_path):
    written = atomic_write_bytes(tmp_path / "sub" / "a.bin", b"x")
    assert written.stat().st_mode & 0o777 == 0o644
    staged = tmp_path / "staged.txt"
    staged.write_text("y", encoding="utf-8")
    staged.chmod(0o600)
    moved = move_into_place(staged, tmp_path / "out" / "b.txt")
    assert moved.stat().st_mode & 0o777 == 0o644
    assert not staged.exists()


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = atomic_write_json(tmp_path / "r.json", {"npv": 1.0})
    with pytest.raises(ValueError, match="JSON compliant"):
        atomic_write_json(target, {"npv": float("nan")})
    assert target.read_text(encoding="utf-8") == '{\n  "npv": 1.0\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_importing_the_package_does_not_touch_the_umask():
    import subprocess
    import sys

    code = (
        "import os; os.umask(0o027); import cxtradeoff.pipeline.build, cxtradeoff.pipeline.export, "
        "cxtradeoff.delivery.email; print(oct(os.umask(0)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0o27"
