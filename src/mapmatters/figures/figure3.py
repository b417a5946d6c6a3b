"""Figure 3 of the paper: Ramachandran free energies F(phi, psi) of a capped amino acid, the
atomistic reference and the MLP of every mapping (high-resolution row, low-resolution row),
and the table of the numbers behind it (``tables/ramachandran.csv``).

F = -k_B T ln P(phi, psi) in kcal/mol (the paper's unit), minimum 0, one colour scale for all
panels, empty bins blank. Each model panel names its distance to the same mapping's reference
(Jensen-Shannon divergence, nats), its point-symmetry score and, where the mapping keeps a CB
bead, its D-form fraction (definitions: :mod:`mapmatters.analysis.backbone`).
"""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .figure1 import save_figure  # noqa: E402

F_MAX_KCAL = 6.0


def _grid(csv: str) -> tuple[np.ndarray, np.ndarray]:
    """(F (n, n) kcal/mol with axis 0 phi, bin edges) of a ramachandran.csv."""
    df = pd.read_csv(csv).sort_values(["phi_deg", "psi_deg"])
    n = int(round(np.sqrt(len(df))))
    return df["free_energy_kcal_mol"].to_numpy().reshape(n, n), np.linspace(-180, 180, n + 1)


def _panel(ax, csv: str, title: str, note: str = ""):
    F, edges = _grid(csv)
    im = ax.pcolormesh(edges, edges, np.ma.masked_invalid(F.T), cmap="viridis", vmin=0, vmax=F_MAX_KCAL,
                       shading="flat")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-180, 180)
    ax.set_xticks([-180, -90, 0, 90, 180])
    ax.set_yticks([-180, -90, 0, 90, 180])
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    if note:
        ax.text(0.02, 0.02, note, transform=ax.transAxes, fontsize=6.5, color="w", va="bottom",
                bbox={"facecolor": "k", "alpha": 0.45, "pad": 1.5, "lw": 0})
    return im


def model_note(info: dict) -> str:
    if not info.get("n_samples"):
        return "no stable frame"
    parts = [f"JSD {info['jensen_shannon_nats']:.3f} nats", f"point sym. {info['point_symmetry']:.2f}"]
    if info.get("d_form_fraction") is not None:
        parts.append(f"D-form {info['d_form_fraction']:.2f}")
    parts.append(f"stable {info['stable_chains']}/{info['n_chains']}")
    return "\n".join(parts)


def plot_figure3(rows: list[list[dict]], reference: dict, out_png: str, out_pdf: str | None = None, *,
                 title: str = "") -> None:
    """``rows``: lists of entries {mapping, model, model_json} (ramachandran.csv/json of each
    mapping's model); ``reference``: {csv, json, label} of the atomistic reference map, drawn
    first in every row."""
    ncol = 1 + max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(2.3 * ncol + 1.0, 2.45 * len(rows) + 0.4), squeeze=False,
                             layout="constrained")
    ref = json.loads(open(reference["json"]).read())
    im = None
    for i, row in enumerate(rows):
        im = _panel(axes[i, 0], reference["csv"], reference["label"],
                    f"{ref['n_samples']} samples\npoint sym. {ref['point_symmetry']:.2f}")
        for j, e in enumerate(row):
            info = json.loads(open(e["model_json"]).read())
            _panel(axes[i, j + 1], e["model"], e["mapping"], model_note(info))
        for ax in axes[i, len(row) + 1:]:
            ax.axis("off")
        axes[i, 0].set_ylabel("psi (deg)")
    for ax in axes[-1, :]:
        if ax.axison:
            ax.set_xlabel("phi (deg)")
    fig.colorbar(im, ax=axes, shrink=0.8, label="F (kcal/mol)")
    save_figure(fig, out_png, out_pdf, title=title)


def ramachandran_rows(entries: list[dict]) -> pd.DataFrame:
    """One row per (system, mapping, source): the numbers of Figure 3 and the SI panels.

    ``entries``: {system, mapping, source ("reference" or the MLP variant), json}."""
    out = []
    for e in entries:
        d = json.loads(open(e["json"]).read())
        row = {"system": e["system"], "mapping": e["mapping"], "source": e["source"],
               "n_samples": d.get("n_samples", 0), "stable_chains": d.get("stable_chains"),
               "n_chains": d.get("n_chains"),
               "jensen_shannon_nats": d.get("jensen_shannon_nats"), "overlap": d.get("overlap"),
               "jensen_shannon_nats_per_chain_mean": d.get("per_chain", {}).get("jensen_shannon_nats", {}).get("mean"),
               "jensen_shannon_nats_per_chain_sd": d.get("per_chain", {}).get("jensen_shannon_nats", {}).get("sd"),
               "point_symmetry": d.get("point_symmetry"), "reversal_symmetry": d.get("reversal_symmetry"),
               "d_form_fraction": d.get("d_form_fraction")}
        for k, v in (d.get("basins") or {}).items():
            row[f"basin_{k}"] = v
        out.append(row)
    return pd.DataFrame(out)
