"""The one analysis path every trajectory source goes through (reference, classical, MACE):
bonded distribution of the mapping's observable + RDFs per species pair, written as CSV, and
the stability of a CG run (:mod:`.stability`).

Which analyses run is the system's choice (``analyses`` in its YAML). An RDF needs a box: for
free-space data (a solvated molecule mapped without its water) and for systems that do not
ask for it, ``rdf.csv`` holds only its header (``r_nm``), and every later step treats that as
"no species pair"."""
from __future__ import annotations

from ..cgdata import CGDataset
from .bonded import dataset_observable_histogram, write_distribution_csv
from .rdf import compute_rdfs, write_rdf_csv


def observable_width(kind: str, bins: dict) -> float:
    """Bin width of an observable from the config's ``analysis.bins`` (nm or deg)."""
    return {"bond": bins["bond_nm"], "angle": bins["angle_deg"], "dihedral": bins["dihedral_deg"]}[kind]


def analyse_distributions(h5: str, analysis: dict, out_bonded: str, out_rdf: str,
                          analyses=("bonded", "rdf")) -> dict:
    """Write the observable histogram and the RDFs of one CG dataset; return a small summary.

    ``analyses`` is the system's list; the RDF is computed only for periodic data.
    """
    with CGDataset(h5) as ds:
        kind = str(ds.attrs["observable_kind"])
        stride = analysis["frame_stride"]
        hist = dataset_observable_histogram(ds, observable_width(kind, analysis["bins"]), stride=stride,
                                            r_max_nm=analysis["bond_r_max_nm"] if kind == "bond" else None)
        write_distribution_csv(out_bonded, hist)
        if "rdf" in analyses and ds.periodic:
            rdf = compute_rdfs(ds, r_max_nm=analysis.get("rdf_r_max_nm"), dr_nm=analysis["rdf_dr_nm"],
                               stride=stride)
            write_rdf_csv(out_rdf, rdf)
            pairs = [c for c in rdf.columns if c != "r_nm"]
        else:
            from ..io import write_text

            write_text(out_rdf, "r_nm\n")
            pairs = []
        return {"frames": hist.n_frames, "observable": kind, "outside_range": int(hist.n_outside),
                "rdf_pairs": pairs}


def write_empty_distributions(template_h5: str, out_bonded: str, out_rdf: str) -> None:
    """Header-only CSVs for a run without a single stable frame (skipped when aggregating)."""
    from ..io import write_text
    from .bonded import CSV_COLUMNS
    from .rdf import rdf_column, species_pairs

    with CGDataset(template_h5) as ds:
        kind = str(ds.attrs["observable_kind"])
        names = ds.topology.species_names
        periodic = ds.periodic
    write_text(out_bonded, ",".join(CSV_COLUMNS[kind]) + "\n")
    pairs = [rdf_column(names, a, b) for a, b in species_pairs(len(names))] if periodic else []
    write_text(out_rdf, ",".join(["r_nm"] + pairs) + "\n")


def run_stability(criterion: dict, template_h5: str, time_ps, *, kT=None, positions=None, box=None,
                  length_ps: float, completed: bool = True) -> dict:
    """The system's stability criterion applied to one CG run (see :mod:`.stability`).

    The molecular criterion takes its reference bond lengths from the mapped reference
    ``template_h5`` (the dataset the model was fitted to)."""
    from .stability import criterion_bonds, stable_time

    bonds, ref = criterion_bonds(criterion, template_h5)
    return stable_time(criterion, time_ps, kT=kT, positions=positions, bonds=bonds, reference_nm=ref, box=box,
                       length_ps=length_ps, completed=completed)


def analyse_engine_run(traj: str, run_json: str, thermo_csv: str, template_h5: str, analysis: dict, system: dict,
                       *, out_h5: str, out_bonded: str, out_rdf: str, out_json: str, source: str, log=print) -> dict:
    """One classical (LAMMPS) run through the shared path: the system's stability criterion on
    its thermo log (bulk: kinetic k_B T) or frames (molecular: bond lengths), then the
    distributions of its stable frames. Writes ``out_json``: the engine's ``run.json`` with
    ``stable_ps`` as the analysis decided it."""
    import json

    import pandas as pd

    from ..cgdata import trajectory_to_dataset
    from ..io import write_json
    from ..units import KB_KJ_MOL_K

    run = json.loads(open(run_json).read())
    criterion = system["stability"]
    if criterion["criterion"] == "bulk":
        thermo = pd.read_csv(thermo_csv)
        st = run_stability(criterion, template_h5, thermo["time"].to_numpy() / 1000.0,   # LAMMPS real: fs
                           kT=KB_KJ_MOL_K * thermo["temp"].to_numpy(), length_ps=run["length_ps"],
                           completed=run["completed"])
    else:
        trajectory_to_dataset(traj, template_h5, out_h5, source=source)
        with CGDataset(out_h5) as ds:
            box = ds.read("box") if ds.periodic else None
            st = run_stability(criterion, template_h5, ds.read("time"), positions=ds.read("positions"), box=box,
                               length_ps=run["length_ps"], completed=run["completed"])
    n = trajectory_to_dataset(traj, template_h5, out_h5, source=source, stop_ps=st["stable_ps"])
    log(f"[run_analysis] {n} stable frames (stable for {st['stable_ps']} ps, {criterion['criterion']} criterion)")
    if n:
        info = analyse_distributions(out_h5, analysis, out_bonded, out_rdf, system["analyses"])
        log(f"[run_analysis] {info}")
    else:
        write_empty_distributions(template_h5, out_bonded, out_rdf)
    record = {**run, **st}
    write_json(out_json, record)
    return record
