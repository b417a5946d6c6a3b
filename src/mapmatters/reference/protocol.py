"""The reference protocol, stage by stage: topology and box (a liquid written atom by atom, or
a molecule built from its sequence and solvated), minimisation, equilibration (NVT; then NPT
for solvated systems), NVT production (resumable from GROMACS checkpoints), and the summary.

Each function takes paths, the system's *definition* (:func:`mapmatters.system.reference_definition`:
what defines the reference, never its mappings) and parameters (from the preset), and writes
its outputs atomically; the Snakemake rules only call these.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from ..io import atomic_path, write_text
from ..units import ANGSTROM_TO_NM
from . import gromacs, mdp, topology

AMU_G = 1.66053906660e-24     # g per amu
NM3_CM3 = 1e-21               # cm^3 per nm^3


def write_topology(system: dict, top_out: str, itp_out: str) -> None:
    """``topol.top`` and the molecule ``.itp`` for a liquid of one molecule type."""
    mol = system["molecule"]
    itp = topology.molecule_itp(mol["name"], mol["atoms"], [tuple(b) for b in mol["bonds"]])
    write_text(itp_out, itp)
    rel = os.path.relpath(itp_out, Path(top_out).parent)
    write_text(top_out, topology.system_top(mol["forcefield"], rel, mol["name"],
                                            system["box"]["n_molecules"], system["name"]))


def start_dihedrals(system: dict, params: dict) -> tuple[float, float]:
    """(phi, psi) in degrees of every residue of a solvated system's start structure.

    ``params['start']`` (the preset's ``reference.<system>.start``) names one of the system's
    ``molecule.start_conformations`` (polyalanine: ``helix`` in the small presets, ``extended``
    as the authors); without it, ``molecule.conformation``.
    """
    mol = system["molecule"]
    name = params.get("start")
    if name is None:
        conf = mol["conformation"]
    else:
        named = mol.get("start_conformations") or {}
        if name not in named:
            from ..errors import InputError

            raise InputError(f"reference.{system['name']}.start is '{name}', which is not one of the system's "
                             f"molecule.start_conformations ({', '.join(named) or 'none'}).",
                             key=f"reference.{system['name']}.start",
                             fix="name a start conformation of the system YAML, or drop 'start'.")
        conf = named[name]
    return float(conf["phi_deg"]), float(conf["psi_deg"])


def start_structure(system: dict, params: dict):
    """Heavy atoms (Angstrom, :class:`mapmatters.reference.peptide.Atom`) of the start structure."""
    from .peptide import build_peptide

    return build_peptide(system["molecule"]["sequence"], start_dihedrals(system, params))


def build_solvated(system: dict, params: dict, out_gro: str, out_top: str, *, seed: int, workdir: str,
                   log: str) -> dict:
    """A molecule built from its sequence, in a box of water, neutralised when charged.

    Start structure from :func:`start_dihedrals` (:mod:`.peptide`), hydrogens and topology by
    ``pdb2gmx -ignh`` (force field and water model from the system), ``editconf`` (box shape and
    margin), ``solvate`` and, when the net charge is not zero, ``genion -neutral``. The topology
    and structure move into place only when every step has run.
    """
    from .peptide import write_peptide_pdb

    mol, box = system["molecule"], system["box"]
    work = Path(workdir)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    write_peptide_pdb(work / "start.pdb", mol["sequence"], start_dihedrals(system, params))
    gromacs.pdb2gmx(str(work / "start.pdb"), mol["forcefield"], mol["water"], str(work / "molecule.gro"),
                    str(work / "topol.top"), workdir=str(work), log=log)
    edge = gromacs.editconf_box(str(work / "molecule.gro"), str(work / "boxed.gro"), box["margin_nm"],
                                box["shape"], log=log)
    n_water = gromacs.solvate(str(work / "boxed.gro"), str(work / "topol.top"), str(work / "solvated.gro"),
                              mol["water"], log=log)
    write_text(work / "ions.mdp", mdp.minimisation_mdp(params["cutoff_nm"], 0))
    ions = mol.get("ions", {})
    n_ions = gromacs.genion_neutral(str(work / "solvated.gro"), str(work / "topol.top"), str(work / "ions.gro"),
                                    mdp=str(work / "ions.mdp"), workdir=str(work), log=log, seed=seed,
                                    pname=ions.get("positive", "K"), nname=ions.get("negative", "CL"))
    moltype = gromacs.peptide_moleculetype(work / "topol.top")
    if moltype != mol["name"]:
        from ..errors import InputError

        raise InputError(f"pdb2gmx named the molecule type '{moltype}', but molecule.name is '{mol['name']}'.",
                         key="molecule.name", fix=f"set molecule.name: {moltype}")
    out_dir = Path(out_top).parent
    for extra in work.glob("posre*.itp"):       # included by topol.top (under #ifdef POSRES)
        shutil.copyfile(extra, out_dir / extra.name)
    for src, dst in ((work / "ions.gro", out_gro), (work / "topol.top", out_top)):
        shutil.copyfile(src, str(dst) + ".tmp")
        os.replace(str(dst) + ".tmp", dst)
    info = {"box_nm": [float(v) for v in edge], "n_water": n_water, "n_ions": n_ions,
            "n_atoms": gromacs.gro_atom_count(out_gro), "molecule_type": moltype}
    with open(log, "a") as fh:
        fh.write(f"[build_solvated] {info}\n")
    return info


def build_box(system: dict, params: dict, out: str, *, seed: int, log: str) -> None:
    box = system["box"]
    with atomic_path(out) as tmp:
        gromacs.insert_molecules(system["molecule"]["structure"], box["n_molecules"], box["edge_nm"],
                                 str(tmp), seed=seed, scale=params["insert"]["scale"],
                                 tries=params["insert"]["tries"], log=log)


def minimise(structure: str, top: str, params: dict, out_gro: str, *, workdir: str, log: str) -> None:
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    write_text(work / "em.mdp", mdp.minimisation_mdp(params["cutoff_nm"], params["minimisation_steps"]))
    gromacs.grompp(str(work / "em.mdp"), structure, top, str(work / "em.tpr"), log=log)
    gromacs.mdrun(str(work / "em"), threads=params["threads"], log=log)
    shutil.copyfile(work / "em.gro", work / "em.out.gro")
    os.replace(work / "em.out.gro", out_gro)


def _steps(ps: float, dt_ps: float) -> int:
    return int(round(ps / dt_ps))


def thermostat_groups(kind: str) -> str:
    """v-rescale groups: the whole liquid, or solute and solvent apart (the authors' choice)."""
    return "System" if kind == "liquid" else "Protein Non-Protein"


def equilibrate(structure: str, top: str, params: dict, out_gro: str, out_cpt: str, *, kind: str, seed: int,
                workdir: str, log: str) -> None:
    """NVT equilibration with velocities drawn at the target temperature; for solvated systems
    then NPT (C-rescale) at ``pressure_bar`` so the water reaches its density."""
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    groups = thermostat_groups(kind)
    common = dict(cutoff_nm=params["cutoff_nm"], dt_ps=params["dt_ps"], temperature_K=params["temperature_K"],
                  tau_t_ps=params["tau_t_ps"], output_every_steps=params["output_every_steps"], seed=seed,
                  tc_grps=groups)
    text = mdp.nvt_mdp(nsteps=_steps(params["equilibration_ps"], params["dt_ps"]), generate_velocities=True,
                       write_forces=False, **common)
    write_text(work / "equil.mdp", text)
    gromacs.grompp(str(work / "equil.mdp"), structure, top, str(work / "equil.tpr"), log=log)
    gromacs.mdrun(str(work / "equil"), threads=params["threads"], log=log)
    last = "equil"
    if kind == "solvated":
        text = mdp.npt_mdp(nsteps=_steps(params["npt_equilibration_ps"], params["dt_ps"]),
                           generate_velocities=False, tau_p_ps=params["tau_p_ps"], ref_p_bar=params["pressure_bar"],
                           **common)
        write_text(work / "npt.mdp", text)
        gromacs.grompp(str(work / "npt.mdp"), str(work / "equil.gro"), top, str(work / "npt.tpr"), log=log,
                       checkpoint=str(work / "equil.cpt"))
        gromacs.mdrun(str(work / "npt"), threads=params["threads"], log=log)
        last = "npt"
    shutil.copyfile(work / f"{last}.gro", str(out_gro) + ".tmp")
    shutil.copyfile(work / f"{last}.cpt", str(out_cpt) + ".tmp")
    os.replace(str(out_gro) + ".tmp", out_gro)
    os.replace(str(out_cpt) + ".tmp", out_cpt)


def produce(structure: str, checkpoint: str, top: str, params: dict, out_tpr: str, out_trr: str,
            out_edr: str, *, kind: str, seed: int, workdir: str, log: str, solute: str | None = None) -> dict:
    """NVT production writing positions and forces together; resumable.

    ``solute`` (solvated systems): the molecule type that must carry no constraint (GROMACS
    writes forces without constraint forces); checked on the run input before the run starts.

    The run lives in ``workdir`` (not a Snakemake output, so it survives an interrupted job).
    If ``workdir`` holds a checkpoint of a run with the same inputs, mdrun continues it with
    ``-cpi -append``; otherwise it starts fresh. Only a finished run is moved to the outputs.
    """
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    nsteps = _steps(params["production_ps"], params["dt_ps"])
    if nsteps % params["output_every_steps"]:
        raise ValueError("production_ps / dt_ps must be a multiple of output_every_steps")
    text = mdp.nvt_mdp(cutoff_nm=params["cutoff_nm"], dt_ps=params["dt_ps"], nsteps=nsteps,
                       temperature_K=params["temperature_K"], tau_t_ps=params["tau_t_ps"],
                       output_every_steps=params["output_every_steps"], seed=seed,
                       generate_velocities=False, write_forces=True, tc_grps=thermostat_groups(kind))
    write_text(work / "prod.mdp.new", text)
    digest = gromacs.file_digest([work / "prod.mdp.new", structure, checkpoint, top])
    stamp = work / "inputs.sha256"
    resume = (stamp.exists() and stamp.read_text().strip() == digest and (work / "prod.cpt").exists())
    if not resume:
        for p in work.glob("prod.*"):
            if p.name != "prod.mdp.new":
                p.unlink()
        os.replace(work / "prod.mdp.new", work / "prod.mdp")
        gromacs.grompp(str(work / "prod.mdp"), structure, top, str(work / "prod.tpr"), log=log,
                       checkpoint=checkpoint)
        write_text(stamp, digest + "\n")
    else:
        (work / "prod.mdp.new").unlink()
        with open(log, "a") as fh:
            fh.write(f"resuming production from {work / 'prod.cpt'}\n")
    constrained = gromacs.check_solute_unconstrained(str(work / "prod.tpr"), solute, log=log) if solute else None
    gromacs.mdrun(str(work / "prod"), threads=params["threads"], log=log,
                  checkpoint_minutes=params["checkpoint_minutes"], resume=resume)
    for src, dst in ((work / "prod.tpr", out_tpr), (work / "prod.trr", out_trr), (work / "prod.edr", out_edr)):
        shutil.copyfile(src, str(dst) + ".tmp")
        os.replace(str(dst) + ".tmp", dst)
    return {"nsteps": nsteps, "resumed": resume, "constrained_molecule_types": constrained}


def density_g_cm3(total_mass_amu: float, box: np.ndarray) -> float:
    """Mass density of a box (rows = box vectors, nm) holding ``total_mass_amu``."""
    volume_nm3 = abs(float(np.linalg.det(np.asarray(box, dtype=float))))
    return total_mass_amu * AMU_G / (volume_nm3 * NM3_CM3)


def summarise(tpr: str, trr: str, edr: str, out_json: str, *, params: dict, system: dict, workdir: str,
              log: str) -> dict:
    """Temperature, density, frame count (and, for a solvated system, which molecule types carry
    constraints: never the solute) in one JSON. The per-mapping force-sum checks are in each
    mapping's ``cg/<mapping>.stats.json``, so a new mapping leaves this summary alone."""
    from ..io import open_universe

    Path(workdir).mkdir(parents=True, exist_ok=True)
    temps = gromacs.energy_terms(edr, ["Temperature"], str(Path(workdir) / "temperature.xvg"), log=log)
    u = open_universe(tpr, trr)
    total_mass = float(u.atoms.masses.sum())
    boxes = []
    for ts in u.trajectory[:: max(1, len(u.trajectory) // 50)]:
        boxes.append(ts.triclinic_dimensions * ANGSTROM_TO_NM)
    rho = [density_g_cm3(total_mass, b) for b in boxes]
    t = temps["Temperature"].to_numpy()
    n_frames = len(u.trajectory)
    target = params["temperature_K"]
    summary = {
        "system": system["name"],
        "kind": system["kind"],
        "n_atoms": int(len(u.atoms)),
        "production_ps": params["production_ps"],
        "dt_ps": params["dt_ps"],
        "output_every_steps": params["output_every_steps"],
        "n_frames": int(n_frames),
        "temperature_target_K": target,
        "temperature_mean_K": float(t.mean()),
        "temperature_std_K": float(t.std()),
        "temperature_within_3K": bool(abs(t.mean() - target) <= 3.0),
        "density_g_cm3": float(np.mean(rho)),
        "total_mass_amu": total_mass,
    }
    if system["kind"] == "solvated":
        summary["box_nm"] = [float(v) for v in np.diag(boxes[-1])]
        summary["n_solute_atoms"] = int(np.sum(u.atoms.moltypes == system["molecule"]["name"]))
        summary["constrained_molecule_types"] = gromacs.constrained_moleculetypes(tpr, log=log)
        summary["solute_unconstrained"] = system["molecule"]["name"] not in summary["constrained_molecule_types"]
    from ..io import write_json

    write_json(out_json, summary)
    return summary
