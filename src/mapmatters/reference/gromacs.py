"""Thin, logged wrappers around the GROMACS command-line tools.

Every call runs ``gmx`` as a subprocess, streams its output into the rule's log, and
turns a failure into an error that names the command and the log.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError

GMX = os.environ.get("MAPMATTERS_GMX", "gmx")


class GromacsError(RuntimeError):
    pass


def gmx_binary() -> str:
    path = shutil.which(GMX)
    if path is None:
        raise GromacsError(f"GROMACS '{GMX}' is not on PATH: run ./install.sh (apt package 'gromacs') "
                           "or set MAPMATTERS_GMX to your gmx binary.")
    return path


def run_gmx(args: Sequence[str], *, log: str | os.PathLike | None, cwd: str | os.PathLike | None = None,
            stdin: str | None = None) -> str:
    """Run ``gmx <args>``, streaming its output into ``log`` as it runs (progress of long
    mdrun jobs shows there); return the output; raise with its tail on failure."""
    import tempfile

    cmd = [gmx_binary(), *map(str, args)]
    env = {**os.environ, "GMX_MAXBACKUP": "-1"}
    with tempfile.TemporaryFile("w+") as capture:
        sink = open(log, "a", buffering=1) if log is not None else capture
        try:
            sink.write(f"$ {' '.join(cmd)}\n")
            sink.flush()
            start = sink.tell()
            proc = subprocess.run(cmd, cwd=cwd, input=stdin, text=True, stdout=sink,
                                  stderr=subprocess.STDOUT, env=env)
            sink.flush()
        finally:
            if sink is not capture:
                sink.close()
        if log is not None:
            with open(log) as fh:
                fh.seek(start)
                text = fh.read()
        else:
            capture.seek(start)
            text = capture.read()
    if proc.returncode != 0:
        tail = "\n".join(text.strip().splitlines()[-25:])
        raise GromacsError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}\n"
                           f"(full output in {log})")
    return text


def insert_molecules(structure: str, n_molecules: int, box_nm: float, out: str, *, seed: int,
                     scale: float, tries: int, log) -> None:
    """Fill a cubic box with ``n_molecules`` copies of ``structure`` (gmx insert-molecules)."""
    text = run_gmx(["insert-molecules", "-ci", structure, "-nmol", n_molecules,
                    "-box", box_nm, box_nm, box_nm, "-try", tries, "-seed", seed, "-scale", scale,
                    "-o", out], log=log)
    inserted = _count_inserted(text)
    if inserted is not None and inserted != n_molecules:
        raise InputError(f"gmx insert-molecules placed only {inserted} of {n_molecules} molecules "
                         f"in a {box_nm} nm box.", key="reference.<system>.insert",
                         fix="lower insert.scale or raise insert.tries in the config.")


def _count_inserted(text: str) -> int | None:
    for line in text.splitlines():
        if line.startswith("Added") and "molecules" in line:
            try:
                return int(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None


def grompp(mdp: str, structure: str, topology: str, out_tpr: str, *, log, checkpoint: str | None = None,
           maxwarn: int = 0, cwd=None) -> None:
    args = ["grompp", "-f", mdp, "-c", structure, "-p", topology, "-o", out_tpr, "-maxwarn", maxwarn,
            "-po", str(Path(out_tpr).with_suffix(".mdout.mdp"))]
    if checkpoint:
        args += ["-t", checkpoint]
    run_gmx(args, log=log, cwd=cwd)


def mdrun(deffnm: str, *, threads: int, log, cwd=None, checkpoint_minutes: float = 15.0,
          resume: bool = False) -> None:
    """Run ``gmx mdrun -deffnm``; with ``resume`` continue from ``<deffnm>.cpt`` and append.

    ``-v`` makes mdrun report its progress (step, expected finish) into the rule log.
    """
    # -reprod: same inputs, seeds and thread count give the same trajectory (determinism).
    args = ["mdrun", "-deffnm", deffnm, "-nt", threads, "-cpt", checkpoint_minutes, "-pin", "off",
            "-reprod", "-v"]
    if resume:
        args += ["-cpi", f"{deffnm}.cpt", "-append"]
    run_gmx(args, log=log, cwd=cwd)


def file_digest(paths: Sequence[str | os.PathLike], extra: str = "") -> str:
    """SHA-256 over the contents of ``paths`` (and ``extra``): identifies a run's inputs."""
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()


def parse_xvg(path: str | os.PathLike) -> pd.DataFrame:
    """An .xvg file as a DataFrame; columns named from the legends (with units where given)."""
    xlabel, legends, rows = "time", [], []
    for line in Path(path).read_text().splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("@"):
            parts = line.split(None, 2)
            if len(parts) >= 3 and parts[1] == "xaxis" and "label" in parts[2]:
                xlabel = parts[2].split('"')[1] if '"' in parts[2] else xlabel
            elif len(parts) >= 3 and parts[1].startswith("s") and parts[2].startswith("legend"):
                legends.append(parts[2].split('"')[1])
            continue
        if line.strip():
            rows.append([float(v) for v in line.split()])
    data = np.array(rows, dtype=float).reshape(len(rows), -1) if rows else np.zeros((0, 1 + len(legends)))
    cols = [xlabel] + legends
    if data.shape[1] != len(cols):
        cols = [xlabel] + [f"col{i}" for i in range(1, data.shape[1])]
    return pd.DataFrame(data, columns=cols)


def energy_terms(edr: str, terms: Sequence[str], out_xvg: str, *, log) -> pd.DataFrame:
    """Time series of energy terms (e.g. 'Temperature') from an .edr file via gmx energy."""
    run_gmx(["energy", "-f", edr, "-o", out_xvg], log=log, stdin="\n".join(terms) + "\n0\n")
    df = parse_xvg(out_xvg)
    missing = [t for t in terms if t not in df.columns]
    if missing:
        raise GromacsError(f"{edr} has no energy term(s) {missing}; present: {list(df.columns)}")
    return df
