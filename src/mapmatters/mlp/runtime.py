"""JAX runtime set-up for the MLP rules; must run before jax is imported.

- ``xla_flags``: extra XLA flags (config ``mlp_runtime.xla_flags``). The default preset sets
  ``--xla_cpu_use_fusion_emitters=false --xla_cpu_use_thunk_runtime=false``. jax 0.10 no
  longer supports the thunk flag (XLA warns and ignores it), so :func:`configure` drops it.
  The fusion flag's effect on this 2-core CPU is not settled: earlier force-call timings went
  either way (16 -> 6.8 ms with another job on the cores, 10.3 -> 13.6 ms on a quieter
  machine), and ``benchmarks/mlp_speed.py`` (old vs new training/MD path per flag set) found
  differences within the noise of a machine loaded at 2-3x its cores. Time it on your machine
  (``--flags legacy fusion-off default``); the flags are configuration, not code. GPU backends
  ignore them.
- ``threads``: the rule's thread count. With 1 thread, XLA's intra-op thread pool is turned
  off so two single-threaded jobs share a 2-core machine without oversubscription.
- The platform is left to JAX: on a machine where ``jax[cuda12]`` is installed and a GPU is
  visible, the same code runs on the GPU.
"""
from __future__ import annotations

import os

#: flags XLA no longer supports; dropped from ``xla_flags`` (older configs still carry them)
UNSUPPORTED = ("--xla_cpu_use_thunk_runtime",)


def configure(xla_flags: str | None = None, threads: int | None = None) -> str:
    """Set ``XLA_FLAGS`` for this process; returns the resulting value. Idempotent."""
    if "jax" in __import__("sys").modules:
        raise RuntimeError("mapmatters.mlp.runtime.configure must be called before jax is imported")
    flags = os.environ.get("XLA_FLAGS", "").split()
    # jax >= 0.10 no longer supports the thunk-runtime switch (XLA warns and ignores it)
    want = [f for f in (xla_flags or "").split() if not f.startswith(UNSUPPORTED)]
    if threads == 1:
        want += ["--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"]
    for f in want:
        if f not in flags:
            flags.append(f)
    os.environ["XLA_FLAGS"] = " ".join(flags)
    return os.environ["XLA_FLAGS"]


def describe() -> dict:
    """Backend, devices and versions of the running JAX (for logs and run records)."""
    import jax

    return {"jax": jax.__version__, "backend": jax.default_backend(),
            "devices": [str(d) for d in jax.devices()], "xla_flags": os.environ.get("XLA_FLAGS", "")}
