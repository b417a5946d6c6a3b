"""The one analysis path every trajectory source goes through (reference, classical, MACE):
bonded distribution of the mapping's observable + RDFs per species pair, written as CSV."""
from __future__ import annotations

from ..cgdata import CGDataset
from .bonded import dataset_observable_histogram, write_distribution_csv
from .rdf import compute_rdfs, write_rdf_csv


def observable_width(kind: str, bins: dict) -> float:
    """Bin width of an observable from the config's ``analysis.bins`` (nm or deg)."""
    return {"bond": bins["bond_nm"], "angle": bins["angle_deg"], "dihedral": bins["dihedral_deg"]}[kind]


def analyse_distributions(h5: str, analysis: dict, out_bonded: str, out_rdf: str) -> dict:
    """Write the observable histogram and the RDFs of one CG dataset; return a small summary."""
    with CGDataset(h5) as ds:
        kind = str(ds.attrs["observable_kind"])
        stride = analysis["frame_stride"]
        hist = dataset_observable_histogram(ds, observable_width(kind, analysis["bins"]), stride=stride,
                                            r_max_nm=analysis["bond_r_max_nm"] if kind == "bond" else None)
        write_distribution_csv(out_bonded, hist)
        rdf = compute_rdfs(ds, r_max_nm=analysis.get("rdf_r_max_nm"), dr_nm=analysis["rdf_dr_nm"],
                           stride=stride)
        write_rdf_csv(out_rdf, rdf)
        return {"frames": hist.n_frames, "observable": kind, "outside_range": int(hist.n_outside),
                "rdf_pairs": [c for c in rdf.columns if c != "r_nm"]}


def write_empty_distributions(template_h5: str, out_bonded: str, out_rdf: str) -> None:
    """Header-only CSVs for a run without a single stable frame (skipped when aggregating)."""
    from ..io import write_text
    from .bonded import CSV_COLUMNS
    from .rdf import rdf_column, species_pairs

    with CGDataset(template_h5) as ds:
        kind = str(ds.attrs["observable_kind"])
        names = ds.topology.species_names
    write_text(out_bonded, ",".join(CSV_COLUMNS[kind]) + "\n")
    write_text(out_rdf, ",".join(["r_nm"] + [rdf_column(names, a, b) for a, b in species_pairs(len(names))]) + "\n")
