"""Figure 5 of the paper (panel b): the free energy F(chi_hel, Q_hel) of the atomistic
polyalanine reference, from the per-frame helix series of its CA beads (``helix.csv``,
:mod:`mapmatters.analysis.helix_runs`).

F = -k_B T ln P in kcal/mol (the paper's unit), on the authors' grid (200 x 200 bins, chi_hel in
+-0.06 nm^3, Q_hel in 0..1), minimum 0, empty bins blank; one colour scale for every panel of
Figures 5 and 6. :func:`helix_panel` is shared with :mod:`.figure6`.
"""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..analysis.helix import helix_free_energy  # noqa: E402
from .figure1 import save_figure  # noqa: E402

F_MAX_KCAL = 5.0


def helix_panel(ax, csv: str, info: dict, title: str, *, temperature_K: float, grid: dict):
    """One F(chi_hel, Q_hel) panel (kcal/mol) of a helix.csv; its note gives the helical fractions
    and the mirror-symmetry score of ``info`` (the matching helix.json). Returns the mesh (or None)."""
    df = pd.read_csv(csv)
    ax.set_title(title, fontsize=9)
    ax.set_xlim(-grid["chi_max_nm3"], grid["chi_max_nm3"])
    ax.set_ylim(0, 1)
    ax.axvline(0.0, color="0.6", lw=0.5)
    ax.set_xticks([-0.05, 0.0, 0.05])
    if len(df) == 0:
        ax.text(0.5, 0.5, "no stable frame", ha="center", va="center", transform=ax.transAxes)
        return None
    try:
        F, ce, qe = helix_free_energy(df["chi_hel_nm3"], df["q_hel"], temperature_K, "kcal/mol",
                                      bins=grid["bins"], chi_max=grid["chi_max_nm3"])
    except ValueError:
        ax.text(0.5, 0.5, "all frames off the grid", ha="center", va="center", transform=ax.transAxes)
        return None
    im = ax.pcolormesh(ce, qe, np.ma.masked_invalid(F.T), cmap="viridis", vmin=0, vmax=F_MAX_KCAL, shading="flat")
    note = [f"{info.get('n_frames', len(df))} frames",
            f"right {info['right_fraction']:.2f} / left {info['left_fraction']:.2f}"]
    if info.get("mirror_symmetry") is not None:
        note.append(f"mirror sym. {info['mirror_symmetry']:.2f}")
    if info.get("stable_fraction") is not None and info.get("source") == "model":
        note.append(f"stable {info['stable_fraction']:.2f}")
    # bottom left: coils have chi_hel near 0 and helices Q_hel near 1, so this corner stays empty
    ax.text(0.02, 0.02, "\n".join(note), transform=ax.transAxes, fontsize=6.5, color="w", va="bottom",
            bbox={"facecolor": "k", "alpha": 0.45, "pad": 1.5, "lw": 0})
    return im


def label_axes(ax, *, y: bool = True) -> None:
    ax.set_xlabel("chi_hel (nm^3)")
    if y:
        ax.set_ylabel("Q_hel")


def plot_figure5(csv: str, json_path: str, out_png: str, out_pdf: str | None = None, *, grid: dict,
                 temperature_K: float, label: str = "atomistic reference", title: str = "") -> None:
    """F(chi_hel, Q_hel) of the reference (``csv``/``json_path``: its helix.csv / helix.json)."""
    info = json.loads(open(json_path).read())
    fig, ax = plt.subplots(figsize=(4.2, 3.4), layout="constrained")
    im = helix_panel(ax, csv, info, label, temperature_K=temperature_K, grid=grid)
    label_axes(ax)
    if im is not None:
        fig.colorbar(im, ax=ax, label="F (kcal/mol)")
    save_figure(fig, out_png, out_pdf, title=title)
