#!/usr/bin/env python
"""How far is a perfect model from the reference's Ramachandran map at a given sample size?

    .venv/bin/python benchmarks/ramachandran_floor.py \\
        --dataset results/default/alanine/cg/heavy-atom.h5 [--sizes 100 150 160 200 400] [--blocks 4]

Draws ``--sizes`` samples from the mapped reference itself and prints the Jensen-Shannon
distance (nats, the same 10-degree grid as the workflow) of their map to the full reference's:
the floor that sampling alone puts under a model's JSD. Two ways of drawing: independent frames,
and ``--blocks`` runs of consecutive frames (a model's chains are correlated in time the same
way), mean and 95th percentile over ``--draws`` draws. ``claims.MIN_RAMACHANDRAN_SAMPLES`` is the
size where the block floor falls below the claim's JSD threshold (0.2 nats).
"""
from __future__ import annotations

import argparse

import numpy as np

from mapmatters.analysis.backbone import dataset_angles
from mapmatters.analysis.ramachandran import jensen_shannon, ramachandran_histogram


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", required=True, help="mapped reference (results/<preset>/<system>/cg/<map>.h5)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 150, 160, 200, 400])
    ap.add_argument("--blocks", type=int, default=4, help="runs of consecutive frames per draw")
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--bin-deg", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    a = dataset_angles(args.dataset)            # the workflow's reader: phi, psi (frames, residues)
    phi, psi, residues = a["phi"], a["psi"], a["residues"]
    full, _ = ramachandran_histogram(phi, psi, args.bin_deg)
    n_frames = len(phi)
    print(f"{args.dataset}: {n_frames} frames, residues {', '.join(residues)}, {args.bin_deg:g}-degree bins, "
          f"{args.draws} draws, seed {args.seed}")
    print(f"{'samples':>8} {'independent mean':>17} {'p95':>6} {f'{args.blocks} blocks mean':>15} {'p95':>6}")
    for n in args.sizes:
        per = max(n // args.blocks, 1)
        if n > n_frames:
            print(f"{n:>8} more samples than the reference has frames ({n_frames})")
            continue
        rng = np.random.default_rng([args.seed, n])     # the same draws whatever the other sizes
        indep, block = [], []
        for _ in range(args.draws):
            i = rng.choice(n_frames, n, replace=False)
            indep.append(jensen_shannon(ramachandran_histogram(phi[i], psi[i], args.bin_deg)[0], full))
            starts = rng.integers(0, n_frames - per + 1, args.blocks)
            j = np.concatenate([np.arange(s, s + per) for s in starts])
            block.append(jensen_shannon(ramachandran_histogram(phi[j], psi[j], args.bin_deg)[0], full))
        print(f"{n:>8} {np.mean(indep):>17.3f} {np.percentile(indep, 95):>6.3f} "
              f"{np.mean(block):>15.3f} {np.percentile(block, 95):>6.3f}")


if __name__ == "__main__":
    main()
