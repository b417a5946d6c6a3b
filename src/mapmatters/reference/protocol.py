"""The reference protocol, stage by stage: topology, box, minimisation, NVT equilibration,
NVT production (resumable from GROMACS checkpoints), and the summary of the run.

Each function takes paths and parameters (from the preset) and writes its outputs
atomically; the Snakemake rules only call these.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..io import atomic_path, write_text
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
                                            system["box"]["n_molecules"], system["description"]))


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


def equilibrate(structure: str, top: str, params: dict, out_gro: str, out_cpt: str, *, seed: int,
                workdir: str, log: str) -> None:
    """NVT equilibration with velocities drawn at the target temperature."""
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    text = mdp.nvt_mdp(cutoff_nm=params["cutoff_nm"], dt_ps=params["dt_ps"],
                       nsteps=_steps(params["equilibration_ps"], params["dt_ps"]),
                       temperature_K=params["temperature_K"], tau_t_ps=params["tau_t_ps"],
                       output_every_steps=params["output_every_steps"], seed=seed,
                       generate_velocities=True, write_forces=False)
    write_text(work / "equil.mdp", text)
    gromacs.grompp(str(work / "equil.mdp"), structure, top, str(work / "equil.tpr"), log=log)
    gromacs.mdrun(str(work / "equil"), threads=params["threads"], log=log)
    shutil.copyfile(work / "equil.gro", str(out_gro) + ".tmp")
    shutil.copyfile(work / "equil.cpt", str(out_cpt) + ".tmp")
    os.replace(str(out_gro) + ".tmp", out_gro)
    os.replace(str(out_cpt) + ".tmp", out_cpt)


def produce(structure: str, checkpoint: str, top: str, params: dict, out_tpr: str, out_trr: str,
            out_edr: str, *, seed: int, workdir: str, log: str) -> dict:
    """NVT production writing positions and forces together; resumable.

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
                       generate_velocities=False, write_forces=True)
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
    gromacs.mdrun(str(work / "prod"), threads=params["threads"], log=log,
                  checkpoint_minutes=params["checkpoint_minutes"], resume=resume)
    for src, dst in ((work / "prod.tpr", out_tpr), (work / "prod.trr", out_trr), (work / "prod.edr", out_edr)):
        shutil.copyfile(src, str(dst) + ".tmp")
        os.replace(str(dst) + ".tmp", dst)
    return {"nsteps": nsteps, "resumed": resume}


def density_g_cm3(total_mass_amu: float, box: np.ndarray) -> float:
    """Mass density of a box (rows = box vectors, nm) holding ``total_mass_amu``."""
    volume_nm3 = abs(float(np.linalg.det(np.asarray(box, dtype=float))))
    return total_mass_amu * AMU_G / (volume_nm3 * NM3_CM3)


def summarise(tpr: str, trr: str, edr: str, mapping_stats: dict[str, str], out_json: str, *,
              params: dict, system: str, workdir: str, log: str) -> dict:
    """Temperature, density, frame count and the per-mapping force-sum checks in one JSON."""
    from ..mapping.trajectory import open_universe

    Path(workdir).mkdir(parents=True, exist_ok=True)
    temps = gromacs.energy_terms(edr, ["Temperature"], str(Path(workdir) / "temperature.xvg"), log=log)
    u = open_universe(tpr, trr)
    total_mass = float(u.atoms.masses.sum())
    boxes = []
    for ts in u.trajectory[:: max(1, len(u.trajectory) // 50)]:
        boxes.append(ts.triclinic_dimensions / 10.0)
    rho = [density_g_cm3(total_mass, b) for b in boxes]
    t = temps["Temperature"].to_numpy()
    n_frames = len(u.trajectory)
    maps = {}
    for name, path in mapping_stats.items():
        with open(path) as fh:
            maps[name] = json.load(fh)
    target = params["temperature_K"]
    summary = {
        "system": system,
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
        "mappings": {name: {**st, "forces_sum_ok": bool(st["force_sum_rel_dev"] < 1e-4)}
                     for name, st in maps.items()},
    }
    from ..io import write_json

    write_json(out_json, summary)
    return summary
