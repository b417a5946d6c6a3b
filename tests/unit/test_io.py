"""Atomic writes: all or nothing, with the permissions of a plainly created file."""
import os
import stat

import pytest

from mapmatters.io import UMASK, atomic_path, write_text


def test_atomic_write_has_umask_permissions_not_mkstemps_0600(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    out = tmp_path / "sub" / "out.txt"
    write_text(out, "y")
    assert out.read_text() == "y"
    mode = stat.S_IMODE(out.stat().st_mode)
    assert mode == stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~UMASK


def test_failed_write_leaves_nothing(tmp_path):
    out = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(out) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not out.exists() and os.listdir(tmp_path) == []
