"""Reference figure of one mapping: its key bonded distribution and its RDFs, as one PNG.

Inputs are the CSVs written by :mod:`mapmatters.analysis` (or the same tables as pandas
DataFrames). Either argument may also be a dict ``{label: table}`` to overlay several
curves (e.g. reference and model) in the same panels.
"""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..analysis.bonded import CSV_COLUMNS, read_distribution_csv  # noqa: E402
from ..analysis.rdf import read_rdf_csv  # noqa: E402
from ..errors import InputError  # noqa: E402
from ..io import atomic_path  # noqa: E402

#: x-axis label per distribution kind; y label per density column.
X_LABELS = {"bond": "bond length (nm)", "angle": "angle (deg)", "dihedral": "dihedral (deg)",
            "nearest_neighbour": "nearest-neighbour distance (nm)"}
Y_LABELS = {"density_per_nm": "probability density (1/nm)", "density_per_deg": "probability density (1/deg)"}


def _load_distribution(table) -> tuple[pd.DataFrame, str]:
    if isinstance(table, (str, os.PathLike)):
        return read_distribution_csv(table)
    for kind, (xcol, ycol) in CSV_COLUMNS.items():
        if list(table.columns[:2]) == [xcol, ycol]:
            return table, kind
    raise InputError(f"unrecognised distribution columns {list(table.columns)}.",
                     fix="pass a table made by mapmatters.analysis.histogram_frame.")


def _load_rdf(table) -> pd.DataFrame:
    return read_rdf_csv(table) if isinstance(table, (str, os.PathLike)) else table


def _labelled(x) -> dict:
    return dict(x) if isinstance(x, dict) else {None: x}


def plot_distribution(ax, bonded) -> str:
    """Draw one or several distributions on ``ax``; returns the kind."""
    kinds = set()
    for label, table in _labelled(bonded).items():
        df, kind = _load_distribution(table)
        kinds.add(kind)
        xcol, ycol = CSV_COLUMNS[kind]
        ax.plot(df[xcol], df[ycol], label=label)
        ax.set_xlabel(X_LABELS[kind])
        ax.set_ylabel(Y_LABELS[ycol])
    if len(kinds) > 1:
        raise InputError(f"cannot overlay different distribution kinds {sorted(kinds)} in one panel.")
    return kinds.pop()


def plot_rdfs(ax, rdfs) -> None:
    """Draw g(r) of every species pair (and every labelled table) on ``ax``."""
    for label, table in _labelled(rdfs).items():
        df = _load_rdf(table)
        for col in [c for c in df.columns if c.startswith("g_")]:
            pair = col[2:]
            ax.plot(df["r_nm"], df[col], label=pair if label is None else f"{label} {pair}")
    ax.axhline(1.0, color="0.7", lw=0.8, zorder=0)
    ax.set_xlabel("r (nm)")
    ax.set_ylabel("g(r)")
    ax.legend(fontsize="small")


def plot_reference(bonded, rdfs, out_png, *, system: str, mapping: str, dpi: int = 150) -> None:
    """Two-panel PNG for one mapping: key bonded distribution (left) and RDFs (right).

    ``bonded``: distribution CSV path or DataFrame (e.g. ``angle_deg,density_per_deg``), or a
    dict of them keyed by label. ``rdfs``: RDF CSV path or DataFrame (``r_nm,g_A-A,...``), or a
    dict. ``rdfs=None`` leaves the right panel out (non-periodic systems have no RDF).
    The title names ``system`` and ``mapping``; written atomically to ``out_png``.
    """
    ncols = 1 if rdfs is None else 2
    fig, axes = plt.subplots(1, ncols, figsize=(5.0 * ncols, 3.8), squeeze=False)
    try:
        kind = plot_distribution(axes[0, 0], bonded)
        axes[0, 0].set_title(f"{kind} distribution")
        if isinstance(bonded, dict) and len(bonded) > 1:
            axes[0, 0].legend(fontsize="small")
        if rdfs is not None:
            plot_rdfs(axes[0, 1], rdfs)
            axes[0, 1].set_title("radial distribution functions")
        fig.suptitle(f"{system}: {mapping}")
        fig.tight_layout()
        with atomic_path(out_png) as tmp:
            fig.savefig(tmp, dpi=dpi, format="png")
    finally:
        plt.close(fig)
