"""Logging for Snakemake rule scripts: everything a script prints goes to the rule's log."""
from __future__ import annotations

import contextlib
import os
import platform
import sys
import time
import traceback


@contextlib.contextmanager
def rule_log(path: str):
    """Redirect stdout/stderr to ``path`` (appending); record the traceback of a failure."""
    t0 = time.time()
    with open(path, "a", buffering=1) as fh:
        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = fh
        slurm = os.environ.get("SLURM_JOB_ID")
        print(f"[mapmatters] start {time.strftime('%Y-%m-%d %H:%M:%S')} on {platform.node()} pid {os.getpid()}"
              + (f" slurm job {slurm} (partition {os.environ.get('SLURM_JOB_PARTITION', '?')}, "
                 f"{os.environ.get('SLURM_CPUS_PER_TASK', '?')} cpus)" if slurm else " (not under SLURM)"),
              file=fh)
        try:
            yield fh
            print(f"[mapmatters] done in {time.time() - t0:.1f} s", file=fh)
        except BaseException:
            traceback.print_exc(file=fh)
            raise
        finally:
            sys.stdout, sys.stderr = old_out, old_err
