"""Figure 1 of the paper: hexane, one column per mapping; row 1 the key bonded distribution,
row 2 the A-A RDF; reference as a black line, each model as its mean +- 3 sd over runs."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..io import atomic_path  # noqa: E402

XLABEL = {"bond_nm": "bond length b (nm)", "angle_deg": "angle θ (deg)", "dihedral_deg": "dihedral φ (deg)",
          "distance_nm": "nearest-neighbour distance (nm)"}
YLABEL = {"nm": "probability density (1/nm)", "deg": "probability density (1/deg)"}
COLORS = {"classical": "tab:blue", "MACE": "tab:red", "NequIP": "tab:green"}


def model_label(model: str, bonded_file: str) -> str:
    """Legend label of a model result folder ('classical' or 'mlp/<variant>')."""
    if not model.startswith("mlp/"):
        return model
    variant = model.removeprefix("mlp/")
    name = variant.split("-")[0].replace("mace", "MACE").replace("nequip", "NequIP")
    extra = ", nearest neighbour" if bonded_file == "nn_runs.csv" else ""
    return f"{name} ({variant}{extra})"


def _band(ax, df: pd.DataFrame, ycol: str, label: str, color: str) -> None:
    x = df.iloc[:, 0]
    m, s = df[f"{ycol}_mean"], df[f"{ycol}_sd"]
    ax.plot(x, m, color=color, label=f"{label} (n={int(df['n_runs'].iloc[0])})", lw=1.3)
    ax.fill_between(x, (m - 3 * s).clip(lower=0), m + 3 * s, color=color, alpha=0.25, lw=0)


def plot_figure1(columns: list[dict], out_png: str, out_pdf: str | None = None, *, title: str = "") -> None:
    """``columns``: one dict per mapping with ``mapping``, ``title``, ``reference_bonded`` and
    ``reference_rdf`` (CSV paths), and ``models``: {label: {"bonded": csv, "rdf": csv}} of
    aggregated (mean/sd) tables; the bonded table may hold another observable on the same axis
    (the two-site MLP's nearest-neighbour distance, column ``distance_nm``). The A-A RDF is the
    first ``g_`` column of the reference."""
    fig, axes = plt.subplots(2, len(columns), figsize=(4.2 * len(columns), 6.4), squeeze=False)
    for j, col in enumerate(columns):
        ref_b = pd.read_csv(col["reference_bonded"])
        ref_g = pd.read_csv(col["reference_rdf"])
        xcol, ycol = ref_b.columns[:2]
        gcol = [c for c in ref_g.columns if c.startswith("g_")][0]
        ax_b, ax_g = axes[0, j], axes[1, j]
        ax_b.plot(ref_b[xcol], ref_b[ycol], color="k", lw=1.6, label="reference")
        ax_g.plot(ref_g["r_nm"], ref_g[gcol], color="k", lw=1.6, label="reference")
        for label, files in col["models"].items():
            color = COLORS.get(label.split()[0], None) or f"C{len(ax_b.lines)}"
            b = pd.read_csv(files["bonded"])
            g = pd.read_csv(files["rdf"])
            if not len(b):   # every run unstable from its first frame: nothing to draw
                ax_b.plot([], [], color=color, label=f"{label}: no stable frame")
                continue
            _band(ax_b, b, b.columns[1].removesuffix("_mean"), label, color)
            _band(ax_g, g, gcol, label, color)
        ax_b.set_xlabel(XLABEL.get(xcol, xcol))
        ax_b.set_ylabel(YLABEL["deg" if xcol.endswith("_deg") else "nm"])
        ax_b.set_title(col["title"])
        ax_g.set_xlabel("r (nm)")
        ax_g.set_ylabel(f"g(r) {gcol.removeprefix('g_')}")
        ax_g.axhline(1.0, color="0.7", lw=0.6)
        ax_b.legend(fontsize=7)
        ax_g.legend(fontsize=7)
    save_figure(fig, out_png, out_pdf, title=title)


def wrap_title(title: str, width_in: float, fontsize_pt: float = 12.0) -> str:
    """``title`` broken into lines that fit a figure ``width_in`` inches wide (a character is
    about 0.6 em), so that a long title on a narrow figure is not cut at both edges."""
    import textwrap

    return textwrap.fill(title, width=max(20, int(width_in * 72 / (0.6 * fontsize_pt))))


def save_figure(fig, out_png: str, out_pdf: str | None = None, *, title: str = "") -> None:
    """Title, layout, and atomic PNG (150 dpi) + optional PDF; closes the figure."""
    if title:
        fig.suptitle(wrap_title(title, fig.get_figwidth()))
    if fig.get_layout_engine() is None:     # a figure made with layout="constrained" keeps it
        fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    if out_pdf:
        with atomic_path(out_pdf) as tmp:
            fig.savefig(tmp, format="pdf")
    plt.close(fig)
