"""Figure 2 of the paper: the (nu, L) sweep of MACE. (a) the bonded observable of one mapping
(three-site A-B-A angle), (b) the first RDF of another (two-site A-A); reference in black,
each variant as mean +- 3 sd over runs."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .figure1 import XLABEL, YLABEL, _band, save_figure  # noqa: E402


def plot_figure2(panel_a: dict, panel_b: dict, out_png: str, out_pdf: str | None = None, *,
                 title: str = "") -> None:
    """Each panel: ``title``, ``reference`` (CSV) and ``models`` {label: aggregated CSV}; panel
    (a) plots the bonded distribution, panel (b) the first ``g_`` column."""
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(10, 4))
    ref = pd.read_csv(panel_a["reference"])
    xcol, ycol = ref.columns[:2]
    ax_a.plot(ref[xcol], ref[ycol], color="k", lw=1.6, label="reference")
    for i, (label, path) in enumerate(panel_a["models"].items()):
        d = pd.read_csv(path)
        if len(d):
            _band(ax_a, d, d.columns[1].removesuffix("_mean"), label, f"C{i}")
    ax_a.set_xlabel(XLABEL.get(xcol, xcol))
    ax_a.set_ylabel(YLABEL["deg" if xcol.endswith("_deg") else "nm"])
    ax_a.set_title(f"(a) {panel_a['title']}")
    ref = pd.read_csv(panel_b["reference"])
    gcol = [c for c in ref.columns if c.startswith("g_")][0]
    ax_b.plot(ref["r_nm"], ref[gcol], color="k", lw=1.6, label="reference")
    for i, (label, path) in enumerate(panel_b["models"].items()):
        d = pd.read_csv(path)
        if len(d):
            _band(ax_b, d, gcol, label, f"C{i}")
    ax_b.axhline(1.0, color="0.7", lw=0.6)
    ax_b.set_xlabel("r (nm)")
    ax_b.set_ylabel(f"g(r) {gcol.removeprefix('g_')}")
    ax_b.set_title(f"(b) {panel_b['title']}")
    for ax in (ax_a, ax_b):
        ax.legend(fontsize=7)
    save_figure(fig, out_png, out_pdf, title=title)
