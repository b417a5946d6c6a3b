"""Independent CG runs of a model: their starting frames and seeds."""
from __future__ import annotations

import numpy as np


def start_frames(n_frames: int, n_runs: int) -> list[int]:
    """Evenly spaced reference frames (never frame 0), one per run, all distinct if possible."""
    if n_frames < 1 or n_runs < 1:
        raise ValueError("need at least one frame and one run")
    idx = np.linspace(0, n_frames - 1, n_runs + 1)[1:]
    return [int(round(i)) for i in idx]
