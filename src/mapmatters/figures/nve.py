"""The NVE time-step scan (the paper's capped-alanine stability test): (a) the fraction of
stable chains against the time step, one line per mapping; (b) the energy drift of the stable
chains (mean |slope| of the total energy, kJ/mol/ps per degree of freedom; see
:mod:`mapmatters.mlp.nve_scan`) on a log axis. The same numbers go into ``tables/nve_scan.csv``."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..analysis.aggregate import write_csv  # noqa: E402
from .figure1 import save_figure  # noqa: E402

KEYS = ["system", "mapping", "variant"]


def nve_table(entries, out_csv=None) -> pd.DataFrame:
    """One table of every scan: ``entries`` are dicts with system, variant, mapping and ``csv``
    (a scan's :data:`mapmatters.mlp.nve_scan.COLUMNS`). Written atomically to ``out_csv``."""
    frames = []
    for e in entries:
        d = pd.read_csv(e["csv"])
        for k in reversed(KEYS):
            d.insert(0, k, e[k])
        frames.append(d)
    if not frames:
        raise ValueError("no NVE scan to tabulate (the study declares none)")
    table = pd.concat(frames, ignore_index=True)
    if out_csv is not None:
        write_csv(out_csv, table)
    return table


def _label(keys: tuple, table: pd.DataFrame) -> str:
    system, mapping, variant = keys
    label = mapping
    if table["variant"].nunique() > 1:
        label += f" ({variant})"
    if table["system"].nunique() > 1:
        label = f"{system}: {label}"
    return label


def plot_nve(table: pd.DataFrame, out_png, out_pdf=None, *, title: str = "") -> None:
    """Two panels from :func:`nve_table`'s table; PNG (150 dpi) and PDF."""
    fig, (ax_s, ax_d) = plt.subplots(1, 2, figsize=(10, 4))
    positive = False
    for i, (keys, d) in enumerate(table.groupby(KEYS, sort=False)):
        d = d.sort_values("dt_fs")
        label = _label(keys, table)
        n = int(d["n_chains"].max()) if d["n_chains"].notna().any() else None
        color, marker = f"C{i % 10}", "osD^v<>ph*"[i % 10]   # markers keep coinciding lines apart
        ax_s.plot(d["dt_fs"], d["stable_fraction"], marker + "-", color=color,
                  label=label + (f" (n={n})" if n else ""))
        drift = d["abs_drift_kJ_mol_ps_dof_mean"].to_numpy(float)
        ok = np.isfinite(drift) & (drift > 0)
        positive |= bool(ok.any())
        ax_d.plot(d["dt_fs"].to_numpy()[ok], drift[ok], marker + "-", color=color, label=label)
    ax_s.set_xlabel("time step Δt (fs)")
    ax_s.set_ylabel("fraction of stable chains")
    ax_s.set_ylim(-0.03, 1.03)
    ax_s.set_title("(a) NVE stability")
    ax_d.set_xlabel("time step Δt (fs)")
    ax_d.set_ylabel("|energy drift| (kJ/mol/ps per d.o.f.)")
    ax_d.set_title("(b) energy drift of the stable chains")
    if positive:
        ax_d.set_yscale("log")
    else:
        ax_d.text(0.5, 0.5, "no stable chain", transform=ax_d.transAxes, ha="center", va="center")
    for ax in (ax_s, ax_d):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    save_figure(fig, out_png, out_pdf, title=title)
