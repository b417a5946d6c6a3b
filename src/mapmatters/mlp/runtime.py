"""JAX runtime set-up for the MLP rules; must run before jax is imported.

- ``xla_flags``: extra XLA flags (config ``mlp_runtime.xla_flags``; the default preset sets none).
  jax 0.10 no longer supports ``--xla_cpu_use_thunk_runtime`` (XLA warns and ignores it), so
  :func:`configure` drops it from older configs. ``--xla_cpu_use_fusion_emitters=false``, once
  the default, was slower on an idle 2-core machine (training 12 %, MD 2-18 %;
  ``benchmarks/mlp_speed.py --flags legacy default``). The flags are configuration read inside
  the job, not a rule parameter. GPU backends ignore them.
- ``compilation_cache``: a directory for JAX's persistent compilation cache (config
  ``mlp_runtime.compilation_cache``; relative paths are under the results folder; null: off).
  Every MLP job traces the model anew, and the equivariant tensor products (e3j) compute their
  coupling coefficients with some 180 small jitted computations while tracing: about 16 s of
  compilation per job on a 2-core CPU, identical for every model with the same irreps. With
  the cache, every job after the first loads them (a MACE init went from 10 s to 2.8 s on a
  model the cache had never seen, 22 s with ``jax.jit``), and a resumed job also skips its
  training-step and MD compiles. All compilations are cached, however short. The cache is keyed by
  the computation, the XLA flags, jax's version and the device, so presets, CPU and GPU jobs
  can share one directory. It holds compiled code only, never results.
- ``threads``: the rule's thread count. With 1 thread, XLA's intra-op thread pool is turned
  off so two single-threaded jobs share a 2-core machine without oversubscription.
- The platform is left to JAX: on a machine where ``jax[cuda12]`` is installed and a GPU is
  visible, the same code runs on the GPU.
"""
from __future__ import annotations

import os

#: flags XLA no longer supports; dropped from ``xla_flags`` (older configs still carry them)
UNSUPPORTED = ("--xla_cpu_use_thunk_runtime",)


def configure(xla_flags: str | None = None, threads: int | None = None,
              compilation_cache: str | os.PathLike | None = None) -> str:
    """Set ``XLA_FLAGS`` (and the persistent compilation cache, when a directory is given)
    for this process; returns the ``XLA_FLAGS`` value. Idempotent."""
    if "jax" in __import__("sys").modules:
        raise RuntimeError("mapmatters.mlp.runtime.configure must be called before jax is imported")
    if compilation_cache:
        os.makedirs(compilation_cache, exist_ok=True)
        os.environ["JAX_COMPILATION_CACHE_DIR"] = os.fspath(compilation_cache)
        # the e3j coefficient computations compile in ~0.1 s each: cache every compilation
        os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
        os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
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


def configure_job(config: dict, threads: int | None) -> str:
    """:func:`configure` from a workflow config (``mlp_runtime``; the cache directory relative to
    ``results``)."""
    rt = config["mlp_runtime"]
    cache = rt.get("compilation_cache")
    if cache and not os.path.isabs(cache):
        cache = os.path.join(config["results"], cache)
    return configure(rt.get("xla_flags"), threads, cache)
