"""Provenance of a results folder: preset, resolved config, tool versions and seeds."""
from __future__ import annotations

import platform
import re
import shutil
import subprocess
import time
from importlib import metadata

PYTHON_PACKAGES = ("mapmatters", "numpy", "scipy", "pandas", "h5py", "MDAnalysis", "mdtraj", "snakemake",
                   "snakemake-executor-plugin-slurm", "jax", "jaxlib", "jax-md", "chemtrain", "mlip",
                   "e3nn-jax", "flax", "optax")


def _first_match(cmd: list[str], pattern: str) -> str:
    if shutil.which(cmd[0]) is None:
        return "not found"
    try:
        out = subprocess.run(cmd, text=True, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"error: {exc}"
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1).strip() if m else "unknown"


def tool_versions() -> dict:
    """Versions of the simulation engines on PATH and of the Python packages that matter."""
    tools = {
        "gromacs": _first_match(["gmx", "--version"], r"GROMACS version:\s*(\S+)"),
        "votca": _first_match(["csg_fmatch", "--help"], r"csg_fmatch,\s*version\s*(\S+)"),
        "lammps": _first_match(["lmp", "-h"], r"Large-scale Atomic/Molecular Massively Parallel Simulator - (.+)"),
    }
    py = {}
    for name in PYTHON_PACKAGES:
        try:
            py[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            py[name] = "not installed"
    return {"tools": tools, "python": py, "python_version": platform.python_version(),
            "platform": platform.platform(), "host": platform.node()}


def provenance(config: dict, seeds: dict) -> dict:
    return {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "preset": config.get("preset"),
            "config": config, "seeds": seeds, "versions": tool_versions()}
