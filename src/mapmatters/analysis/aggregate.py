"""Combine per-run analyses of one model: mean and standard deviation over runs, RDF errors
against the reference (Table 1), and stability statistics.

Figures show mean +- 3 sd over runs (the paper's bands); runs with no stable frame add
nothing to the distributions but count in the stability statistics.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import atomic_path
from .rdf import rdf_error_by_pair

RDF_ERROR_SCALE = 1e3          # Table 1 reports RDF errors in units of 1e-3


def aggregate_runs(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Per-run tables on one grid (first column x, others y) -> x, <y>_mean, <y>_sd, n_runs.

    The standard deviation is over runs (ddof = 1); a single run has none (NaN: no band in the
    figures). Tables must share their x grid (same binning), which the shared analysis path
    guarantees.
    """
    if not tables:
        raise InputError("no run to aggregate (every run was unstable from its first frame).",
                         fix="inspect the runs' stability; shorten dt or improve the model.")
    x = tables[0].columns[0]
    for t in tables[1:]:
        if list(t.columns) != list(tables[0].columns) or not np.allclose(t[x], tables[0][x]):
            raise InputError("per-run tables differ in columns or grid.", fix="re-run the analyses.")
    out = {x: tables[0][x].to_numpy()}
    for col in tables[0].columns[1:]:
        stack = np.stack([t[col].to_numpy(dtype=float) for t in tables])
        out[f"{col}_mean"] = np.nanmean(stack, axis=0)
        out[f"{col}_sd"] = np.nanstd(stack, axis=0, ddof=1) if len(tables) > 1 else np.full(stack.shape[1], np.nan)
    df = pd.DataFrame(out)
    df["n_runs"] = len(tables)
    return df


def _empty_aggregate(template: pd.DataFrame) -> pd.DataFrame:
    cols = [template.columns[0]] + [f"{c}_{k}" for c in template.columns[1:] for k in ("mean", "sd")] + ["n_runs"]
    return pd.DataFrame(columns=cols)


def rdf_errors(run_rdfs: list[pd.DataFrame], reference: pd.DataFrame) -> pd.DataFrame:
    """RDF error per run and species pair (units of 1e-3), one row per run."""
    rows = []
    for i, g in enumerate(run_rdfs):
        err = rdf_error_by_pair(g, reference)
        rows.append({"run": i, **{f"{k}_err_1e-3": RDF_ERROR_SCALE * v for k, v in err.items()}})
    return pd.DataFrame(rows)


def mean_sd(values) -> dict:
    """Mean and sample sd (ddof = 1) over runs; ``sd`` is None for fewer than two runs (one run
    has no spread to report: the tables then print the mean alone)."""
    v = np.asarray(list(values), dtype=float)
    if len(v) == 0:
        return {"mean": None, "sd": None, "n": 0}
    return {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)) if len(v) > 1 else None, "n": int(len(v))}


def read_runs(paths) -> list[dict]:
    return [json.loads(Path(p).read_text()) for p in paths]


def write_csv(path, df: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")


def summarise_model(model: str, run_jsons, bonded_csvs, rdf_csvs, reference_rdf_csv, *, out_json: str,
                    out_bonded: str, out_rdf: str, out_errors: str) -> dict:
    """Aggregate the runs of one model of one mapping (the shared path for every engine).

    Writes the mean/sd distributions, the per-run RDF errors, and a JSON with stability
    (stable time per run, mean and sd, ps), speed (ns/day of run 0, measured by the engine's
    MD loop time) and the RDF errors (mean and sd over runs, units of 1e-3).
    """
    from ..io import write_json

    runs = read_runs(run_jsons)
    bonded = [pd.read_csv(p) for p in bonded_csvs]
    rdfs = [pd.read_csv(p) for p in rdf_csvs]
    used = [i for i, b in enumerate(bonded) if len(b)]
    # no run with a stable frame (an unstable model): header-only tables, the summary says so;
    # free-space data have no RDF (rdf.csv holds only r_nm): no RDF table, no RDF errors
    has_rdf = len(rdfs[0].columns) > 1
    write_csv(out_bonded, aggregate_runs([bonded[i] for i in used]) if used else _empty_aggregate(bonded[0]))
    write_csv(out_rdf, aggregate_runs([rdfs[i] for i in used]) if used and has_rdf else _empty_aggregate(rdfs[0]))
    errors = rdf_errors([rdfs[i] for i in used] if has_rdf else [], pd.read_csv(reference_rdf_csv))
    errors["run"] = used if has_rdf else []
    write_csv(out_errors, errors)
    stable = [r["stable_ps"] for r in runs]
    summary = {
        "model": model,
        "n_runs": len(runs),
        "runs_with_stable_frames": len(used),
        "length_ps": runs[0]["length_ps"],
        "stability_ps": mean_sd(stable),
        "stable_ps_per_run": stable,
        "fully_stable_runs": int(sum(s >= r["length_ps"] - 1e-6 for s, r in zip(stable, runs))),
        "speed_ns_per_day": runs[0].get("ns_per_day"),
        "speed_method": runs[0].get("speed_method", ""),
        "temperature_mean_K": mean_sd(r["temperature_mean"] for r in runs if r.get("temperature_mean") is not None),
        "rdf_error_1e-3": {c.removesuffix("_err_1e-3"): mean_sd(errors[c]) for c in errors.columns if c != "run"},
    }
    write_json(out_json, summary)
    return summary


def model_table(mappings, summary_jsons, fit_jsons=None) -> pd.DataFrame:
    """One row per mapping from model summaries: speed, stability, temperature, RDF errors."""
    rows = []
    fits = fit_jsons or [None] * len(mappings)
    for m, s_path, f_path in zip(mappings, summary_jsons, fits):
        s = json.loads(Path(s_path).read_text())
        row = {"mapping": m, "model": s["model"], "runs": s["n_runs"], "run_length_ps": s["length_ps"],
               "speed_ns_per_day": s["speed_ns_per_day"],
               "stability_ps_mean": s["stability_ps"]["mean"], "stability_ps_sd": s["stability_ps"]["sd"],
               "temperature_K_mean": s["temperature_mean_K"]["mean"]}
        for pair, v in s["rdf_error_1e-3"].items():
            row[f"{pair}_err_1e-3_mean"] = v["mean"]
            row[f"{pair}_err_1e-3_sd"] = v["sd"]
        if f_path:
            f = json.loads(Path(f_path).read_text())
            row["fit_frames"] = f.get("n_frames")
            row["fmatch_wall_s"] = f.get("fmatch_wall_s")
        rows.append(row)
    return pd.DataFrame(rows)
