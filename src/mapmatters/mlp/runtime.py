"""JAX runtime set-up for the MLP rules; must run before jax is imported.

- ``xla_flags``: extra XLA flags (config ``mlp_runtime.xla_flags``; the default preset sets none).
  jax 0.10 no longer supports ``--xla_cpu_use_thunk_runtime`` (XLA warns and ignores it), so
  :func:`configure` drops it from older configs. ``--xla_cpu_use_fusion_emitters=false``, once
  the default, was slower on an idle 2-core machine (training 12 %, MD 2-18 %;
  ``benchmarks/mlp_speed.py --flags legacy default``). The flags are configuration read inside
  the job, not a rule parameter. GPU backends ignore them.
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
