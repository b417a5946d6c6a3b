"""Table 1 of the paper (MLP variants x mappings: force error, stability, speed, RDF errors) and
the bond-permutation table, from the rules' JSON results; CSV plus a rendered Markdown table."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..io import write_text

METRICS = [  # (column in the long table, row label in the rendered table, format)
    ("force_rmse_mev_a", "Force RMSE (meV/Å) ↓", "{:.1f}"),
    ("stability_ps", "Stability (ps) ↑", None),
    ("speed_ns_per_day", "Speed (ns/day) ↑", "{:.1f}"),
]


def variant_label(mcfg: dict, n_avg) -> str:
    nu = mcfg.get("correlation") if mcfg.get("model", "mace") == "mace" else "-"
    na = f"N_avg {n_avg:g}" if n_avg is not None else f"r_cut {mcfg['r_cut']:g} nm"
    return f"{mcfg.get('model', 'mace').upper()} ν={nu} L={mcfg['num_layers']} {na}"


def table1_rows(entries: list[dict]) -> pd.DataFrame:
    """``entries``: dicts with mapping, variant, metrics (path), summary (path). One row each."""
    rows = []
    for e in entries:
        met = json.loads(Path(e["metrics"]).read_text())
        summ = json.loads(Path(e["summary"]).read_text())
        mc = met["model_config"]
        fe = met.get("testing_force_error") or {}
        row = {"mapping": e["mapping"], "variant": e["variant"], "model": mc["model"],
               "nu": mc.get("correlation"), "L": mc["num_layers"], "n_avg_target": met.get("n_avg_target"),
               "n_avg_model": mc.get("avg_num_neighbors"), "r_cut_nm": mc["r_cut"],
               "test_frames": met["n_frames"].get("testing"), "train_frames": met["n_frames"].get("training"),
               "epochs": met["epochs"],
               "force_rmse_mev_a": fe.get("rmse_mev_a"), "force_mae_mev_a": fe.get("mae_mev_a"),
               "runs": summ["n_runs"], "run_length_ps": summ["length_ps"],
               "stability_ps_mean": summ["stability_ps"]["mean"], "stability_ps_sd": summ["stability_ps"]["sd"],
               "speed_ns_per_day": summ["speed_ns_per_day"],
               "temperature_K_mean": summ["temperature_mean_K"]["mean"]}
        for pair, v in summ["rdf_error_1e-3"].items():
            row[f"{pair}_err_1e-3_mean"] = v["mean"]
            row[f"{pair}_err_1e-3_sd"] = v["sd"]
        perm = summ.get("permutation", {}).get("events_per_entry_per_ns", {})
        row["permutation_events_per_entry_per_ns"] = perm.get("mean")
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(mean, sd=None, fmt="{:.1f}") -> str:
    if mean is None or pd.isna(mean):
        return "–"
    s = fmt.format(mean)
    if sd is not None and not pd.isna(sd):
        s += f" ({fmt.format(sd)})"
    return s


def render_markdown(df: pd.DataFrame, *, title: str) -> str:
    """The paper's layout: one column per variant, one block of rows per mapping."""
    variants = list(dict.fromkeys(df["variant"]))
    first = df.drop_duplicates("variant").set_index("variant")
    head = ["mapping", "metric"] + [f"{v}<br>ν={first.loc[v, 'nu']}, L={first.loc[v, 'L']}" for v in variants]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    pairs = [c.removesuffix("_err_1e-3_mean") for c in df.columns if c.endswith("_err_1e-3_mean")]
    for m in dict.fromkeys(df["mapping"]):
        sub = df[df["mapping"] == m].set_index("variant")
        rows = [("r_cut (nm), from N_avg", lambda r: _cell(r["r_cut_nm"], None, "{:.3f}")),
                ("Force RMSE (meV/Å) ↓", lambda r: _cell(r["force_rmse_mev_a"])),
                ("Stability (ps) ↑", lambda r: _cell(r["stability_ps_mean"], r["stability_ps_sd"])),
                ("Speed (ns/day) ↑", lambda r: _cell(r["speed_ns_per_day"]))]
        for p in pairs:
            if sub[f"{p}_err_1e-3_mean"].notna().any():
                rows.append((f"{p} error (1e-3) ↓",
                             lambda r, p=p: _cell(r[f"{p}_err_1e-3_mean"], r[f"{p}_err_1e-3_sd"])))
        for label, fn in rows:
            cells = [fn(sub.loc[v]) if v in sub.index else "–" for v in variants]
            lines.append(f"| {m} | {label} | " + " | ".join(cells) + " |")
    runs = sorted({(int(r), float(ps)) for r, ps in zip(df["runs"], df["run_length_ps"])})
    n_runs = ", ".join(f"{r} x {ps:g} ps" for r, ps in runs)
    lines += ["", f"Runs per model: {n_runs}. Mean (sd over runs; a single run has none). "
              "Force RMSE over force components on the held-out test frames. "
              "Speed: simulated time of all vmapped runs per day of wall time (JAX-MD loop after compilation). "
              "– : no stable run to analyse."]
    return "\n".join(lines) + "\n"


def permutation_table(entries: list[dict]) -> pd.DataFrame:
    """Bond-permutation rates of MLP runs next to the mapped reference (per mapping); species-aware
    and species-blind (``any_species``, see :mod:`mapmatters.analysis.permutation`)."""
    rows = []
    for e in entries:
        s = json.loads(Path(e["summary"]).read_text())
        ref = json.loads(Path(e["reference"]).read_text())
        p = s.get("permutation", {})
        rows.append({"system": e.get("system"), "mapping": e["mapping"], "variant": e["variant"],
                     "mlp_events_per_entry_per_ns": p.get("events_per_entry_per_ns", {}).get("mean"),
                     "mlp_events_per_entry_per_ns_sd": p.get("events_per_entry_per_ns", {}).get("sd"),
                     "mlp_fraction_permuted": p.get("fraction_permuted_mean", {}).get("mean"),
                     "reference_events_per_entry_per_ns": ref.get("events_per_entry_per_ns"),
                     "reference_fraction_permuted": ref.get("fraction_permuted_mean"),
                     "mlp_any_species_events_per_entry_per_ns":
                         (p.get("any_species") or {}).get("events_per_entry_per_ns", {}).get("mean"),
                     "reference_any_species_events_per_entry_per_ns":
                         (ref.get("any_species") or {}).get("events_per_entry_per_ns")})
    return pd.DataFrame(rows)


def write_table(df: pd.DataFrame, csv_path, md_path=None, *, title: str = "") -> None:
    from ..analysis.aggregate import write_csv

    write_csv(csv_path, df)
    if md_path:
        write_text(md_path, render_markdown(df, title=title))
