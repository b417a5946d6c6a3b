"""Small I/O helpers: atomic writes and YAML/JSON loading."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Iterator

import yaml


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: the process's umask, read once (``os.umask`` can only be read by setting it)
UMASK = _umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success.

    The temporary file lives in the same directory so that the final ``os.replace``
    is atomic. On any exception the temporary file is removed, so a failed step
    never leaves a half-written output behind. The file gets the permissions of a plainly
    created one (``mkstemp`` makes it private, 0600; results are shared on a cluster).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sfx = suffix if suffix is not None else "".join(path.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{sfx}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.is_file():
            os.chmod(tmp_path, 0o666 & ~UMASK)
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, data) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def load_yaml(path: str | os.PathLike):
    from .errors import InputError

    path = Path(path)
    if not path.exists():
        raise InputError("file not found.", file=str(path), fix="check the path in the config.")
    try:
        with open(path) as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({exc}).", file=str(path)) from exc


def open_universe(tpr: str, trr: str):
    """An MDAnalysis Universe of ``tpr`` + ``trr`` with a clear error for bad pairs.

    MDAnalysis works in Angstrom (positions) and kJ/mol/A (forces): callers convert back to
    GROMACS units at this edge (:mod:`mapmatters.units`)."""
    import MDAnalysis as mda

    from .errors import InputError

    for p in (tpr, trr):
        if not Path(p).exists():
            raise InputError("file not found.", file=str(p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            u = mda.Universe(str(tpr), str(trr))
        except ValueError as exc:
            if "atoms" in str(exc).lower():
                raise InputError(f"the trajectory and the topology {tpr} do not match ({exc}).",
                                 file=str(trr), fix="map a trajectory with the .tpr that produced it.") from exc
            raise
    return u
