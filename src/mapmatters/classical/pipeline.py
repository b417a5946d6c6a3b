"""The classical column end to end: fit a model from a CG dataset, then simulate it with LAMMPS.

- :func:`fit_model`: CG dataset -> VOTCA force matching -> complete potential tables, written as
  ``tables.json`` (internal units, read back by :func:`load_tables`), one plain ``*.pot`` file per
  interaction (x, U, F) and ``fit.json`` (grids, trusted ranges, skipped types, timing);
- :func:`simulate`: tables + one dataset frame -> LAMMPS NVT Langevin run -> ``traj.xtc`` +
  ``cg.pdb`` + ``thermo.csv`` + ``run.json`` (speed in ns/day, mean temperature, stable time).
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import write_json, write_text
from . import lammps as lmp
from .model import InteractionType, ModelTopology
from .tables import PotentialTable, tables_from_fit
from .units import ns_per_day
from .votca import FitOptions, force_match


def save_tables(tables: dict[str, PotentialTable], path: str | os.PathLike, meta: dict | None = None) -> None:
    """Write complete tables (internal units) as JSON."""
    data = {"units": {"x": "nm or rad", "energy": "kJ/mol", "force": "kJ/mol/nm or kJ/mol/rad"},
            "meta": meta or {},
            "tables": {name: {"kind": t.kind, "species": list(t.itype.species), "fit_min": t.fit_min,
                              "fit_max": t.fit_max, "x": t.x, "energy": t.energy, "force": t.force}
                       for name, t in tables.items()}}
    write_json(path, data)


def load_tables(path: str | os.PathLike) -> tuple[dict[str, PotentialTable], dict]:
    """Read tables written by :func:`save_tables`; returns (tables, meta)."""
    p = Path(path)
    if not p.exists():
        raise InputError("table file not found.", file=str(p), fix="run the classical fit rule first.")
    data = json.loads(p.read_text())
    out = {}
    for name, d in data["tables"].items():
        it = InteractionType(d["kind"], tuple(d["species"]))
        out[name] = PotentialTable(it, np.asarray(d["x"]), np.asarray(d["energy"]), np.asarray(d["force"]),
                                   float(d["fit_min"]), float(d["fit_max"]))
    return out, data.get("meta", {})


def fit_model(dataset: str | os.PathLike, outdir: str | os.PathLike, options: FitOptions | None = None, *,
              temperature: float = 300.0, log: str | os.PathLike | None = None,
              nice: int | None = None) -> dict:
    """Force-match a classical model to a CG dataset and write its tables into ``outdir``."""
    outdir = Path(outdir)
    result = force_match(dataset, outdir / "votca", options, log=log, nice=nice)
    tables = tables_from_fit(result, temperature=temperature)
    summary = result.summary()
    summary["dataset"] = str(dataset)
    summary["temperature"] = temperature
    save_tables(tables, outdir / "tables.json", meta={"cutoff_nm": result.cutoff, "temperature": temperature})
    for name, t in tables.items():
        write_text(outdir / f"{name}.pot", t.to_text())
    write_json(outdir / "fit.json", summary)
    return summary


def simulate(dataset: str | os.PathLike, tables_json: str | os.PathLike, rundir: str | os.PathLike,
             settings: lmp.LammpsSettings | None = None, *, frame: int = -1, nice: int | None = None,
             timeout: float | None = None, keep_dump: bool = False) -> dict:
    """Run the tabulated model in LAMMPS from one dataset frame; returns and writes ``run.json``.

    A model that blows up (LAMMPS stops with a table-range error) is reported in ``run.json``
    (``completed``, ``error``) rather than raised; whether and from when a run is unstable is the
    run analysis' decision (:mod:`mapmatters.analysis.stability`, the system's criterion). The LAMMPS text dump
    is removed after conversion to ``traj.xtc`` unless ``keep_dump``.
    """
    from ..cgdata import CGDataset

    settings = settings or lmp.LammpsSettings()
    rundir = Path(rundir)
    tables, meta = load_tables(tables_json)
    with CGDataset(dataset) as ds:
        model = ModelTopology.from_dataset(ds)
        pos, box = lmp.initial_frame(ds, frame)
    run = lmp.write_lammps_run(rundir, model, tables, pos, box, settings, cutoff_nm=float(meta["cutoff_nm"]))
    wall, rc = lmp.run_lammps(rundir, nice=nice, timeout=timeout, check=False)
    log = rundir / "log.lammps"
    error = lmp.last_error(log) if rc != 0 else ""
    try:
        thermo = lmp.parse_thermo(log)
    except lmp.LammpsError:
        raise lmp.LammpsError(f"LAMMPS produced no thermo output in {rundir}: {error}") from None
    write_text(rundir / "thermo.csv", thermo.to_csv(index=False))
    n_frames = lmp.dump_to_xtc(run.dump, rundir / "traj.xtc", settings.dt_ps) if run.dump.exists() else 0
    if n_frames and not keep_dump:
        run.dump.unlink()  # the text dump is ~8x the .xtc; traj.xtc + cg.pdb hold the same frames
    perf = lmp.parse_performance(log)
    completed = rc == 0
    summary = {"completed": completed, "error": error, "length_ps": settings.length_ps,
               "temperature_mean": float(thermo["temp"].iloc[1:].mean()) if len(thermo) > 1 else None,
               "n_frames": n_frames, "wall_s": round(wall, 3),
               "ns_per_day_wall": round(ns_per_day(settings.length_ps, wall), 1) if completed else None,
               "ns_per_day_lammps": perf.get("ns_per_day"),
               # the speed every engine reports: simulated time / MD loop wall time (no set-up)
               "ns_per_day": perf.get("ns_per_day") if completed else None,
               "speed_method": "LAMMPS 'Performance' line: MD loop time, set-up excluded, 1 core",
               "settings": asdict(settings),
               "initial_frame": frame}
    write_json(rundir / "run.json", summary)
    return summary
