"""Plots of fitted classical potentials: U and F per interaction type, fitted range shaded."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..io import atomic_path  # noqa: E402

XUNIT = {"bond": ("r", "nm", 1.0), "pair": ("r", "nm", 1.0), "angle": ("θ", "deg", 180 / math.pi),
         "dihedral": ("φ", "deg", 180 / math.pi)}


def plot_tables(tables: dict, out_png: str, *, title: str) -> None:
    """One panel per interaction: potential U (kJ/mol, left axis) and force (right axis)."""
    names = sorted(tables, key=lambda n: (["bond", "angle", "dihedral", "pair"].index(tables[n].kind), n))
    ncol = min(3, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.3 * ncol, 3.2 * nrow), squeeze=False)
    for ax, name in zip(axes.flat, names):
        t = tables[name]
        sym, unit, scale = XUNIT[t.kind]
        x = np.asarray(t.x) * scale
        inside = (np.asarray(t.x) >= t.fit_min) & (np.asarray(t.x) <= t.fit_max)
        u = np.asarray(t.energy)
        ylo, yhi = np.nanmin(u[inside]) - 2.0, np.nanmax(u[inside]) + 5.0
        ax.plot(x, u, color="tab:blue")
        ax.set_ylim(ylo, yhi)
        ax.axvspan(t.fit_min * scale, t.fit_max * scale, color="0.9", zorder=0, label="fitted range")
        ax.set_xlabel(f"{sym} ({unit})")
        ax.set_ylabel("U (kJ/mol)", color="tab:blue")
        ax2 = ax.twinx()
        f = np.asarray(t.force)
        fu = "kJ/mol/nm" if unit == "nm" else "kJ/mol/rad"
        ax2.plot(x, f, color="tab:orange", lw=0.8)
        frange = np.nanmax(np.abs(f[inside])) * 1.3 + 1e-9
        ax2.set_ylim(-frange, frange)
        ax2.set_ylabel(f"F = -dU/d{sym} ({fu})", color="tab:orange")
        ax.set_title(name)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=130, format="png")
    plt.close(fig)
