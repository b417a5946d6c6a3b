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


# --- solvated peptides: pdb2gmx -> editconf -> solvate -> genion -----------------------------
# Water model -> the pre-equilibrated solvent box that ships with GROMACS. The 3-site models
# (SPC, SPC/E, TIP3P) share spc216.gro; only the coordinates are taken from it.
SOLVENT_BOXES = {"tip3p": "spc216.gro", "spc": "spc216.gro", "spce": "spc216.gro",
                 "tip4p": "tip4p.gro", "tip4pew": "tip4p.gro", "tip5p": "tip5p.gro"}
# Charges of the ion molecule types of the AMBER ions.itp, for the net charge of a topology
# that already lists ions.
ION_CHARGES = {"K": 1.0, "NA": 1.0, "CL": -1.0}


def pdb2gmx(pdb: str, ff: str, water: str, out_gro: str, out_top: str, *, workdir: str, log) -> str:
    """Hydrogens, termini and topology of a (capped) peptide with ``gmx pdb2gmx -ignh``.

    Hydrogens in the input are ignored and rebuilt from the force field's ``.hdb``. ACE and
    NME caps are recognised as the start and end termini by pdb2gmx itself (they are
    residues of ``aminoacids.rtp``), so no ``-ter`` choice is needed; stdin is empty so
    that any unexpected prompt fails instead of hanging. The position-restraint include
    (``posre.itp``) is written next to ``out_top``. Returns the command's output.
    """
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    posre = Path(out_top).resolve().parent / "posre.itp"
    args = ["pdb2gmx", "-f", Path(pdb).resolve(), "-o", Path(out_gro).resolve(), "-p",
            Path(out_top).resolve(), "-i", posre, "-ff", ff, "-water", water, "-ignh"]
    try:
        return run_gmx(args, log=log, cwd=work, stdin="")
    except GromacsError as exc:
        raise InputError(f"gmx pdb2gmx could not build a {ff}/{water} topology for {pdb}: {exc}",
                         file=str(pdb), fix="check residue and atom names against "
                         f"{ff}.ff/aminoacids.rtp (caps: ACE, NME).") from exc


def gro_box(path: str | os.PathLike) -> np.ndarray:
    """The box vector line (last line) of a .gro file, in nm (3 or 9 numbers)."""
    last = Path(path).read_text().rstrip("\n").splitlines()[-1]
    return np.array([float(v) for v in last.split()])


def gro_atom_count(path: str | os.PathLike) -> int:
    with open(path) as fh:
        fh.readline()
        return int(fh.readline().split()[0])


def editconf_box(gro: str, out: str, margin_nm: float, shape: str = "cubic", *, log) -> np.ndarray:
    """Centre the solute in a box ``shape`` with at least ``margin_nm`` to each face
    (``gmx editconf -bt shape -d margin -c``); returns the box line of ``out`` in nm."""
    if margin_nm <= 0:
        raise InputError(f"box margin must be positive, got {margin_nm} nm.", key="box.margin_nm")
    run_gmx(["editconf", "-f", gro, "-o", out, "-bt", shape, "-d", margin_nm, "-c"], log=log)
    return gro_box(out)


def solvate(gro: str, top: str, out: str, water_model: str = "tip3p", *, log) -> int:
    """Fill the box with water (``gmx solvate``); adds the SOL line to ``top`` in place.
    Returns the number of water molecules added."""
    box = SOLVENT_BOXES.get(water_model.lower())
    if box is None:
        raise InputError(f"no solvent box known for water model '{water_model}'; known: "
                         f"{sorted(SOLVENT_BOXES)}.", key="water_model")
    text = run_gmx(["solvate", "-cp", gro, "-cs", box, "-p", top, "-o", out], log=log)
    for line in text.splitlines():
        if line.strip().startswith("Number of solvent molecules:"):
            return int(line.split(":")[1].split()[0])
    raise GromacsError(f"gmx solvate did not report the number of solvent molecules (see {log}).")


def _top_sections(text: str):
    """(section, fields) for every data line of topology text (comments, directives skipped)."""
    section = None
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            continue
        yield section, line.split()


def _local_include_text(top: str | os.PathLike) -> str:
    """Text of ``top`` with its local ``#include``s inlined (force-field files, i.e. paths
    inside a ``.ff`` folder, are left out)."""
    top = Path(top)
    out = []
    for raw in top.read_text().splitlines():
        s = raw.strip()
        if s.startswith("#include"):
            name = s.split(None, 1)[1].strip().strip('"<>')
            inc = top.parent / name
            if ".ff/" not in name and inc.is_file():
                out.append(_local_include_text(inc))
                continue
        out.append(raw)
    return "\n".join(out)


def topology_moleculetypes(top_text: str) -> dict[str, dict]:
    """Molecule types defined in topology text, in order: name -> {"atoms": [(resnr, resname,
    atom name, charge)], "charge": total}. Types defined in force-field includes (water,
    ions) are not in the text and so not listed."""
    types: dict[str, dict] = {}
    current = None
    for section, f in _top_sections(top_text):
        if section == "moleculetype":
            current = f[0]
            types[current] = {"atoms": [], "charge": 0.0}
        elif section == "atoms" and current is not None:
            atom = (int(f[2]), f[3], f[4], float(f[6]))
            types[current]["atoms"].append(atom)
            types[current]["charge"] += atom[3]
    return types


def topology_molecules(top_text: str) -> list[tuple[str, int]]:
    """The ``[ molecules ]`` list: (molecule type, count) in order."""
    return [(f[0], int(f[1])) for section, f in _top_sections(top_text) if section == "molecules"]


def peptide_moleculetype(top: str | os.PathLike) -> str:
    """Name of the peptide's molecule type in a pdb2gmx topology: the one molecule type the
    topology itself (with its local includes) defines. pdb2gmx calls it ``Protein_chain_A``
    for a chain with ID A (``Protein`` without a chain ID)."""
    names = [n for n in topology_moleculetypes(_local_include_text(top)) if n not in ("SOL", *ION_CHARGES)]
    if len(names) != 1:
        raise InputError(f"expected one peptide molecule type in {top}, found {names}.", file=str(top))
    return names[0]


def topology_residues(top: str | os.PathLike, moleculetype: str | None = None) -> list[tuple[int, str, list[str]]]:
    """Residues of a molecule type (default: the peptide) as (resnr, resname, atom names)."""
    mt = moleculetype or peptide_moleculetype(top)
    atoms = topology_moleculetypes(_local_include_text(top))[mt]["atoms"]
    out: list[tuple[int, str, list[str]]] = []
    for resnr, resname, name, _ in atoms:
        if not out or out[-1][0] != resnr:
            out.append((resnr, resname, []))
        out[-1][2].append(name)
    return out


def topology_net_charge(top_text: str) -> float:
    """Net charge (e) of the system a topology describes: molecule types defined in the text
    times their ``[ molecules ]`` counts; SOL counts 0 and the ions of ``ION_CHARGES`` their
    charge. Same number as pdb2gmx's final ``; qtot`` for a single peptide."""
    types = topology_moleculetypes(top_text)
    total = 0.0
    for name, count in topology_molecules(top_text):
        if name in types:
            total += count * types[name]["charge"]
        elif name.upper() in ION_CHARGES:
            total += count * ION_CHARGES[name.upper()]
        elif name != "SOL":
            raise InputError(f"charge of molecule type '{name}' is unknown (not defined in the "
                             "topology, not SOL, not an ion).", key="[ molecules ]")
    return total


def grompp_net_charge(grompp_output: str) -> float:
    """Net charge from grompp's output: its note 'System has non-zero total charge: q',
    else 0."""
    for line in grompp_output.splitlines():
        if "non-zero total charge" in line:
            return float(line.rsplit(":", 1)[1].split()[0])
    return 0.0


def genion_neutral(gro: str, top: str, out_gro: str, *, mdp: str, workdir: str, log, seed: int,
                   pname: str = "K", nname: str = "CL") -> int:
    """Neutralise with K+/Cl- (``gmx genion -neutral``, replacing water) when the net charge
    of ``top`` is nonzero; else copy ``gro``. Updates ``top`` in place; returns ions added."""
    q = topology_net_charge(_local_include_text(top))
    if abs(q - round(q)) > 1e-3:
        raise InputError(f"net charge {q:.4f} e of {top} is not an integer.", file=str(top))
    if round(q) == 0:
        shutil.copyfile(gro, out_gro)
        return 0
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    tpr = work / "ions.tpr"
    # grompp warns about Ewald electrostatics with a net charge - the very thing genion fixes;
    # allow that one warning for this throw-away .tpr only.
    grompp(mdp, gro, top, str(tpr), log=log, maxwarn=1)
    run_gmx(["genion", "-s", tpr, "-o", out_gro, "-p", top, "-pname", pname, "-nname", nname,
             "-neutral", "-seed", seed], log=log, stdin="SOL\n")
    left = topology_net_charge(_local_include_text(top))
    if abs(left) > 1e-3:
        raise GromacsError(f"gmx genion left a net charge of {left:.4f} e in {top} (see {log}).")
    return abs(int(round(q)))


# --- constraints in a run input ---------------------------------------------------------------
CONSTRAINT_ILISTS = {"Constraint": 2, "Constr. No Conn.": 2, "Settle": 3}   # atoms per entry


def parse_dump_constraints(dump_text: str) -> dict[str, dict[str, int]]:
    """Constraint-type interactions per molecule type in ``gmx dump -s`` output.

    Returns {molecule type: {"Constraint": n, "Constr. No Conn.": n, "Settle": n}} with n
    the number of interactions (the dump's ``nr`` counts type + atom indices).
    """
    out: dict[str, dict[str, int]] = {}
    current = None
    lines = dump_text.splitlines()
    for k, line in enumerate(lines):
        s = line.strip()
        if s.startswith("moltype (") and s.endswith("):"):
            current = None
            for nxt in lines[k + 1:k + 3]:
                if nxt.strip().startswith("name="):
                    current = nxt.split("=", 1)[1].strip().strip('"')
                    out[current] = {name: 0 for name in CONSTRAINT_ILISTS}
        elif current is not None and s.endswith(":") and s[:-1] in CONSTRAINT_ILISTS:
            nr = lines[k + 1].strip() if k + 1 < len(lines) else ""
            if nr.startswith("nr:"):
                out[current][s[:-1]] = int(nr.split()[1]) // (1 + CONSTRAINT_ILISTS[s[:-1]])
    return out


def constrained_moleculetypes(tpr: str, *, log) -> dict[str, dict[str, int]]:
    """Molecule types of a .tpr that carry constraints or SETTLEs, with their counts
    (``gmx dump -s``); types without any are left out."""
    text = run_gmx(["dump", "-s", tpr], log=None)
    if log is not None:
        with open(log, "a") as fh:
            fh.write(f"$ gmx dump -s {tpr}  (output parsed for constraints, not logged)\n")
    per_type = parse_dump_constraints(text)
    if not per_type:
        raise GromacsError(f"no molecule types found in 'gmx dump -s {tpr}' output.")
    return {name: {k: v for k, v in c.items() if v} for name, c in per_type.items() if any(c.values())}


def check_solute_unconstrained(tpr: str, solute: str, *, log) -> dict[str, dict[str, int]]:
    """Raise if molecule type ``solute`` has any constraint or SETTLE (forces written by
    GROMACS would miss the constraint forces); return all constrained types (e.g. rigid water)."""
    constrained = constrained_moleculetypes(tpr, log=log)
    if solute in constrained:
        raise InputError(f"{tpr}: the solute '{solute}' has constraints {constrained[solute]}; "
                         "force matching needs an unconstrained solute.",
                         fix="set 'constraints = none' in the .mdp and keep [ constraints ] and "
                             "[ settles ] out of the solute's topology.")
    return constrained
