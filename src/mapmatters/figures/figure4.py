"""Figure 4 and the chirality table: the chiral inversion barrier of each mapping's MLP from
well-tempered metadynamics along the improper N-CA-CB-C (:mod:`mapmatters.mlp.chirality`).

(a) F(s) along the improper (degrees, kcal/mol) per mapping, the F averaged over the usable walkers
(molecule intact for the whole run, crossed) as a line and their range as a band (a mapping with no
usable walker has a legend entry and no line), the barrier (that F, jackknife error) in the legend,
and where the model has an umbrella check the MBAR profile (dashed, its error as a band); (b) per
mapping the beads of the start (L) frame and of the intact frame nearest the planar state (+-180 deg), both
superposed on the start frame (Kabsch) and projected on its two principal axes; bonds are drawn
between beads closer than :data:`BOND_NM` in the start frame, the N, CA, CB, C beads labelled.
"""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..units import KJ_TO_KCAL  # noqa: E402
from .figure1 import save_figure  # noqa: E402

BOND_NM = 0.19
TABLE_COLUMNS = ["system", "variant", "mapping", "barrier_kcal_mol", "barrier_err_kcal_mol",
                 "barrier_walker_mean_kcal_mol", "barrier_walker_sd_kcal_mol", "wait_time_ps", "transition_seen",
                 "n_crossed", "n_walkers", "n_intact_walkers", "n_usable_walkers",
                 "escape_bias_mean_kcal_mol", "escape_bias_sd_kcal_mol",
                 "first_transition_ps",
                 "lower_bound_kcal_mol", "length_ps", "start_frame", "start_improper_deg",
                 "umbrella_barrier_kcal_mol", "umbrella_err_kcal_mol", "umbrella_minus_metad_kcal_mol",
                 "umbrella_agrees", "barrier_note", "umbrella_note"]


def _first(times) -> float | None:
    """The earliest walker's first arrival in the mirror basin (ps), None when none arrived."""
    got = [t for t in (times or []) if t is not None]
    return min(got) if got else None


def _umbrella(e) -> dict | None:
    path = e.get("umbrella")
    return json.loads(open(path).read()) if path else None


def chirality_table(entries, out_csv: str | None = None) -> pd.DataFrame:
    """One row per model (``entries``: dicts with system, variant, mapping, json)."""
    from ..analysis.aggregate import write_csv

    rows = []
    for e in entries:
        s = json.loads(open(e["json"]).read())
        rows.append({"system": e["system"], "variant": e["variant"], "mapping": e["mapping"],
                     "barrier_kcal_mol": s["barrier_kcal_mol"], "barrier_err_kcal_mol": s["barrier_err_kcal_mol"],
                     "barrier_walker_mean_kcal_mol": s["barrier_walker_mean_kcal_mol"],
                     "barrier_walker_sd_kcal_mol": s["barrier_walker_sd_kcal_mol"],
                     "wait_time_ps": s["wait_time_ps"], "transition_seen": s["transition_seen"],
                     "n_crossed": s["n_crossed"], "n_walkers": s["n_walkers"],
                     "n_intact_walkers": s.get("n_intact"), "n_usable_walkers": s.get("n_usable"),
                     "barrier_note": s.get("barrier_note"),
                     "escape_bias_mean_kcal_mol": s.get("escape_bias_mean_kcal_mol"),
                     "escape_bias_sd_kcal_mol": s.get("escape_bias_sd_kcal_mol"),
                     "first_transition_ps": _first(s.get("first_crossing_ps")),
                     "lower_bound_kcal_mol": s["lower_bound_kcal_mol"], "length_ps": s["length_ps"],
                     "start_frame": s["start"]["frame"], "start_improper_deg": s["start"]["improper_deg"]})
        u = _umbrella(e)
        if u is not None:
            rows[-1].update(umbrella_barrier_kcal_mol=u["barrier_kcal_mol"],
                            umbrella_err_kcal_mol=u["barrier_err_kcal_mol"],
                            umbrella_minus_metad_kcal_mol=u["comparison"]["difference_kcal_mol"],
                            umbrella_agrees=u["comparison"]["agree"], umbrella_note=u.get("barrier_note"))
    df = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    if out_csv:
        write_csv(out_csv, df)
    return df


def kabsch(P, Q) -> np.ndarray:
    """P (N, 3) rotated and translated onto Q (N, 3) (least squares)."""
    P, Q = np.asarray(P, float), np.asarray(Q, float)
    p, q = P - P.mean(0), Q - Q.mean(0)
    U, _, Vt = np.linalg.svd(p.T @ q)
    d = np.sign(np.linalg.det(U @ Vt))
    R = U @ np.diag([1.0, 1.0, d]) @ Vt
    return p @ R + Q.mean(0)


def projection(ref) -> tuple[np.ndarray, np.ndarray]:
    """Centre and the two principal axes (2, 3) of positions ``ref`` (N, 3)."""
    c = np.asarray(ref, float).mean(0)
    _, _, Vt = np.linalg.svd(np.asarray(ref, float) - c)
    return c, Vt[:2]


def _draw(ax, X2, bonds, names, quad, colour, dx=0.0):
    for i, j in bonds:
        ax.plot([X2[i, 0] + dx, X2[j, 0] + dx], [X2[i, 1], X2[j, 1]], color="0.6", lw=1, zorder=1)
    ax.scatter(X2[:, 0] + dx, X2[:, 1], s=18, color=colour, zorder=2)
    for q in quad:
        ax.annotate(names[q].split("-")[-1], (X2[q, 0] + dx, X2[q, 1]), fontsize=6, xytext=(2, 2),
                    textcoords="offset points")


def _plot_umbrella(ax, u: dict, s: dict, col: str) -> None:
    """The MBAR profile on the metadynamics curve's scale: shifted so that its minimum over the start
    basin equals the metadynamics F there; split where it crosses +-180 degrees."""
    prof = u["profile"]
    x = np.degrees(np.asarray(prof["s_rad"], float))
    F = np.asarray([np.nan if v is None else v for v in prof["F_kJ_mol"]], float) * KJ_TO_KCAL
    dF = np.asarray([np.nan if v is None else v for v in prof["dF_kJ_mol"]], float) * KJ_TO_KCAL
    g = np.degrees(np.asarray(s["grid_rad"]))
    lo, hi = np.degrees(u["regions_rad"]["minimum"])
    at_min = (x >= lo) & (x <= hi) & np.isfinite(F)
    shift = 0.0
    if s.get("F_kJ_mol") is not None:
        Fm = np.asarray(s["F_kJ_mol"]) * KJ_TO_KCAL
        shift = np.nanmin(np.where((g >= lo) & (g <= hi), Fm, np.nan)) - (np.nanmin(F[at_min]) if at_min.any() else 0.0)
    F, order = F + shift, np.arange(len(x))
    cut = np.flatnonzero(np.abs(np.diff(x)) > 180) + 1       # the +-180 seam
    lab = (f"umbrella/MBAR: {u['barrier_kcal_mol']:.1f} $\\pm$ {u['barrier_err_kcal_mol']:.1f} kcal/mol"
           if u.get("barrier_kcal_mol") is not None else "umbrella/MBAR: no barrier (windows broke)")
    for k, idx in enumerate(np.split(order, cut)):
        ax.plot(x[idx], F[idx], color=col, ls="--", lw=1.2, label=lab if k == 0 else None)
        ax.fill_between(x[idx], F[idx] - dF[idx], F[idx] + dF[idx], color=col, alpha=0.12, lw=0)


def plot_figure4(entries, out_png: str, out_pdf: str | None = None, *, title: str = "") -> None:
    """The figure (module docstring) from the models' ``metad.json``."""
    data = [(e, json.loads(open(e["json"]).read())) for e in entries]
    n = max(1, len(data))
    fig = plt.figure(figsize=(max(7.0, 2.6 * n), 6.5))
    gs = fig.add_gridspec(2, n, height_ratios=[1.3, 1.0])
    ax = fig.add_subplot(gs[0, :])
    for k, (e, s) in enumerate(data):
        g = np.degrees(np.asarray(s["grid_rad"]))
        col = f"C{k}"
        intact = f", {s['n_intact']}/{s['n_walkers']} intact" if s.get("n_intact") is not None else ""
        if s.get("barrier_kcal_mol") is not None:
            lab = (f"{e['mapping']}: {s['barrier_kcal_mol']:.1f} $\\pm$ {s['barrier_err_kcal_mol']:.1f} kcal/mol, "
                   f"{s['n_crossed']}/{s['n_walkers']} crossed{intact}")
        elif not s["transition_seen"] and s["lower_bound_kcal_mol"] is not None:
            lab = f"{e['mapping']}: no crossing, barrier > {s['lower_bound_kcal_mol']:.1f} kcal/mol{intact}"
        else:
            esc = s.get("escape_bias_mean_kcal_mol")
            esc = f"; escape bias {esc:.1f} kcal/mol" if esc is not None else ""
            lab = f"{e['mapping']}: no barrier ({s['n_crossed']}/{s['n_walkers']} crossed{intact}{esc})"
        if s.get("F_kJ_mol") is not None:
            ax.plot(g, np.asarray(s["F_kJ_mol"]) * KJ_TO_KCAL, color=col, label=lab)
        else:
            ax.plot([], [], color=col, ls="none", marker="x", label=lab)
        if s.get("F_per_walker_kJ_mol") is not None:
            Fw = np.asarray(s["F_per_walker_kJ_mol"]) * KJ_TO_KCAL
            ax.fill_between(g, Fw.min(axis=1), Fw.max(axis=1), color=col, alpha=0.2, lw=0)
        u = _umbrella(e)
        if u is not None and u.get("profile") is not None:    # None: every window's molecule fell apart
            _plot_umbrella(ax, u, s, col)
    ax.axvline(180, color="0.5", ls=":", lw=0.8)
    ax.axvline(-180, color="0.5", ls=":", lw=0.8)
    ax.set_xlim(-180, 180)
    ax.set_xticks(range(-180, 181, 60))
    ax.set_xlabel("improper N-CA-CB-C (deg); L near +120, D near -120, planar at $\\pm$180")
    ax.set_ylabel("F (kcal/mol)")
    ax.set_title("(a) free energy along the chirality improper (band: walker range)", fontsize=9, loc="left")
    ax.legend(fontsize=7)
    for k, (e, s) in enumerate(data):
        axb = fig.add_subplot(gs[1, k])
        X0 = np.asarray(s["start_positions_nm"])
        names, quad = s["bead_names"], s["quad"]
        d = np.linalg.norm(X0[:, None] - X0[None], axis=-1)
        bonds = [(i, j) for i in range(len(X0)) for j in range(i + 1, len(X0)) if d[i, j] < BOND_NM]
        c, A = projection(X0)
        P0 = (X0 - c) @ A.T
        width = np.ptp(P0[:, 0]) + 0.15
        _draw(axb, P0, bonds, names, quad, "C0")
        label = f"{e['mapping']}: start {s['start']['improper_deg']:.0f}$^\\circ$ (blue)"
        top = s.get("top_frame")
        if top is not None:
            Pt = (kabsch(np.asarray(top["positions_nm"]), X0) - c) @ A.T
            _draw(axb, Pt, bonds, names, quad, "C3", dx=width)
            label += f",\nnearest planar {top['improper_deg']:.0f}$^\\circ$ (red)"
        axb.margins(0.15)
        axb.set_aspect("equal", adjustable="datalim")
        axb.set_xticks([])
        axb.set_yticks([])
        axb.set_title(f"(b) {label}", fontsize=7, loc="left")
    save_figure(fig, out_png, out_pdf, title=title)
