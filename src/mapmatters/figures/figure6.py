"""Figure 6 of the paper: F(chi_hel, Q_hel) of CG polyalanine, one panel per mapping's MLP (the
paper: CA with unique species, Core, Core Beta; the SI panel: the other CA species choices), each
with a small drawing of which atoms of a residue the mapping keeps.

Panels as :func:`mapmatters.figures.figure5.helix_panel` (kcal/mol, the authors' grid, the same
colour scale as Figure 5); the reference panel is drawn first for comparison.
"""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .figure1 import save_figure  # noqa: E402
from .figure5 import helix_panel, label_axes  # noqa: E402

#: schematic 2-D positions of an alanine's heavy atoms (and the next residue's N), for the drawing
RESIDUE_SKETCH = {"N": (0.0, 0.0), "CA": (1.0, 0.55), "CB": (1.0, 1.5), "C": (2.0, 0.0), "O": (2.0, -0.95),
                  "+N": (3.0, 0.55)}
SKETCH_BONDS = [("N", "CA"), ("CA", "CB"), ("CA", "C"), ("C", "O"), ("C", "+N")]


def residue_sketch(ax, beads: list[dict]) -> None:
    """Inset: the residue's heavy atoms, filled where a bead of the template (``beads``: the ALA
    template's bead entries, {name, atoms, species}) holds them, hollow where they are dropped."""
    kept = {a: b for b in beads for a in b.get("atoms", [])}
    for a, b in SKETCH_BONDS:
        (x0, y0), (x1, y1) = RESIDUE_SKETCH[a], RESIDUE_SKETCH[b]
        ax.plot([x0, x1], [y0, y1], color="0.4", lw=0.8, zorder=1)
    for atom, (x, y) in RESIDUE_SKETCH.items():
        on = atom in kept
        ax.scatter([x], [y], s=36, zorder=2, facecolor="C1" if on else "w",
                   edgecolor="0.6" if atom.startswith("+") else "k", lw=0.8)
        ax.text(x, y - 0.42 if atom != "CB" else y + 0.3, atom, ha="center", va="center", fontsize=5)
    ax.set_xlim(-0.5, 3.5)
    ax.set_ylim(-1.5, 2.0)
    ax.set_aspect("equal")
    ax.axis("off")


def plot_figure6(panels: list[dict], reference: dict, out_png: str, out_pdf: str | None = None, *, grid: dict,
                 temperature_K: float, title: str = "") -> None:
    """``panels``: {mapping, variant, csv, json, beads (the ALA template's beads)} per model;
    ``reference``: {csv, json, label}, drawn first."""
    n = 1 + len(panels)
    fig, axes = plt.subplots(1, n, figsize=(3.0 * n + 0.8, 3.2), squeeze=False, layout="constrained")
    axes = axes[0]
    ref = json.loads(open(reference["json"]).read())
    im = helix_panel(axes[0], reference["csv"], ref, reference["label"], temperature_K=temperature_K, grid=grid)
    label_axes(axes[0])
    for ax, p in zip(axes[1:], panels):
        info = json.loads(open(p["json"]).read())
        im = helix_panel(ax, p["csv"], info, f"{p['mapping']} ({p['variant']})", temperature_K=temperature_K,
                         grid=grid) or im
        label_axes(ax, y=False)
        residue_sketch(ax.inset_axes([0.64, 0.02, 0.34, 0.34]), p["beads"])   # bottom right: no helix there
    if im is not None:
        fig.colorbar(im, ax=list(axes), shrink=0.85, label="F (kcal/mol)")
    save_figure(fig, out_png, out_pdf, title=title)
