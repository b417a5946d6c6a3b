"""What a GROMACS force field knows about residues: atom names per residue from its ``.rtp``
files (the residue topology database pdb2gmx builds molecules from).

Used to check residue templates and sequences in a system YAML before anything runs: a
sequence residue the force field does not know, or a template atom a residue does not have,
is an input error that names the file and the key.
"""
from __future__ import annotations

import os
import shutil
from functools import lru_cache
from pathlib import Path

RTP_SECTIONS = {"atoms", "bonds", "impropers", "dihedrals", "angles", "bondedtypes", "cmap", "exclusions"}


def gromacs_top_dir() -> Path | None:
    """GROMACS' force-field folder (``share/gromacs/top``), or None when GROMACS is not installed."""
    for env in ("GMXLIB",):
        if os.environ.get(env) and Path(os.environ[env]).is_dir():
            return Path(os.environ[env])
    if os.environ.get("GMXDATA") and (Path(os.environ["GMXDATA"]) / "top").is_dir():
        return Path(os.environ["GMXDATA"]) / "top"
    gmx = shutil.which(os.environ.get("MAPMATTERS_GMX", "gmx"))
    candidates = [Path(gmx).resolve().parents[1] / "share/gromacs/top"] if gmx else []
    candidates.append(Path("/usr/share/gromacs/top"))
    return next((c for c in candidates if c.is_dir()), None)


def parse_rtp(text: str) -> dict[str, list[str]]:
    """Residue name -> atom names, in order, from the text of one ``.rtp`` file."""
    out: dict[str, list[str]] = {}
    residue, section = None, None
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            if name in RTP_SECTIONS:
                section = name
            else:
                residue, section = name, None
                out[residue] = []
            continue
        if residue is not None and section == "atoms":
            out[residue].append(line.split()[0])
    return out


@lru_cache(maxsize=None)
def residue_atoms(forcefield: str) -> dict[str, list[str]] | None:
    """Atom names per residue of a GROMACS force field (e.g. ``amber99sb-ildn``); None when the
    force field folder cannot be found (GROMACS not installed: checks then wait for pdb2gmx)."""
    top = gromacs_top_dir()
    if top is None or not (top / f"{forcefield}.ff").is_dir():
        return None
    out: dict[str, list[str]] = {}
    for rtp in sorted((top / f"{forcefield}.ff").glob("*.rtp")):
        out.update(parse_rtp(rtp.read_text(errors="replace")))
    return out
