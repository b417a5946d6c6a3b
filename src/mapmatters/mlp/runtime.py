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
- ``threads``: the rule's thread count. XLA's CPU client sizes its thread pool to the CPUs the
  process may run on, and in jax 0.10 the flag ``--xla_cpu_multi_thread_eigen=false`` does not
  stop that pool: a "single-threaded" job ran its main thread plus two busy pool threads, so two
  such jobs on a 2-core machine kept about five threads runnable. ``pin_cpus`` (config
  ``mlp_runtime.pin_cpus``, default on) therefore gives each job ``threads`` CPUs of its own:
  :func:`claim_cpus` takes a lock per CPU (``flock`` on ``<lock dir>/cpu<N>.lock``, released when
  the job's process ends, even when it is killed) and the process is pinned to those CPUs
  before jax starts, so XLA's pool has exactly that size. When every allowed CPU is taken
  (more jobs than cores) the job is not pinned. Measured on the 2-core machine, two training
  jobs at once: 278-299 ms per chemtrain batch pinned against 357-387 ms unpinned (20-25 % more
  throughput), the same MD step time (``benchmarks/profile_mlp.py``, README, Speed). A job
  alone on the machine loses its second core's share (191 -> 316 ms per batch): Snakemake
  scheduled it for ``threads`` CPUs, and that is what it now gets.
- ``keep_heap`` (config ``mlp_runtime.keep_heap``, default on): XLA's CPU runtime allocates each
  call's scratch memory with ``malloc`` from its pool threads, and at the paper's model size a
  single energy + force call asks for blocks of 414 and 69 MB. glibc serves blocks that large
  with a fresh ``mmap`` and returns them with ``munmap`` on every call (a thread arena cannot hold
  more than 64 MB, so even ``MALLOC_MMAP_MAX_=0`` falls back to ``mmap``), and the kernel then
  zero-fills every page again: 118,000 page faults per call, more than half of its time in the
  kernel. :func:`keep_heap` tells glibc (``mallopt``, before jax starts a thread) to use one
  arena, never ``mmap`` and never trim, so freed scratch stays in the heap and the next call
  reuses it. The cost is memory: the process keeps its peak, and aligned blocks leave gaps the
  next block does not fit, so the heap grows for the first calls before it settles (paper-size
  MACE: 2.4 GB resident against a 1.7 GB peak with glibc's defaults, steady after a handful of
  calls). Measured on one core of the idle 2-core AMD EPYC (paper-size MACE, hexane three-site,
  300 beads, steady state): energy + forces 619 -> 273 ms, the same numbers to the last bit; a
  default-size training step about 2x (``benchmarks/mlp_speed.py``; README, Speed). With two
  threads in one process the single arena costs a little (default-size energy + forces 9-13 %
  slower unpinned on 2 cores; ``benchmarks/mace_torch.py``). Without glibc (musl, macOS) it does
  nothing.
- The platform is left to JAX: on a machine where ``jax[cuda12]`` is installed and a GPU is
  visible, the same code runs on the GPU.
"""
from __future__ import annotations

import os
import tempfile

#: flags XLA no longer supports; dropped from ``xla_flags`` (older configs still carry them)
UNSUPPORTED = ("--xla_cpu_use_thunk_runtime",)

#: the CPU locks this process holds (open files: closing them, or the process ending, frees them)
_HELD: list = []


def cpu_lock_dir() -> str:
    """Where the per-CPU locks live: ``$MAPMATTERS_CPU_LOCKS`` or a per-user folder in /tmp
    (node-local, which is what CPU numbers are)."""
    return os.environ.get("MAPMATTERS_CPU_LOCKS") or os.path.join(
        tempfile.gettempdir(), f"mapmatters-cpus-{os.getuid()}")


def claim_cpus(n: int, allowed=None, lock_dir: str | None = None) -> tuple[list[int], list]:
    """Lock ``n`` of the ``allowed`` CPUs (default: this process's affinity) that no other process
    holds; returns (the CPUs, the open lock files). Nothing is held when fewer than ``n`` are
    free, or when ``n`` covers every allowed CPU (nothing to share)."""
    import fcntl

    allowed = sorted(os.sched_getaffinity(0) if allowed is None else allowed)
    if n >= len(allowed):
        return [], []
    lock_dir = lock_dir or cpu_lock_dir()
    os.makedirs(lock_dir, exist_ok=True)
    cpus, files = [], []
    for cpu in allowed:
        fh = open(os.path.join(lock_dir, f"cpu{cpu}.lock"), "a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            continue
        cpus.append(cpu)
        files.append(fh)
        if len(cpus) == n:
            return cpus, files
    for fh in files:
        fh.close()
    return [], []


def pin_to_free_cpus(threads: int) -> list[int]:
    """Pin this process to ``threads`` CPUs no other mapmatters job holds (see the module doc);
    returns them, or [] when the process stays unpinned."""
    cpus, files = claim_cpus(threads)
    if cpus:
        os.sched_setaffinity(0, cpus)
        _HELD.extend(files)
    return cpus


#: glibc ``mallopt`` parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8


def keep_heap() -> bool:
    """Make glibc keep freed memory for reuse (one arena, no ``mmap``, no trimming; see the
    module doc); True when it took effect, False without glibc. Call before any thread starts."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt     # the process's own symbols: glibc's, if it has them
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    settings = ((_M_ARENA_MAX, 1), (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, 2**31 - 1))
    return all(mallopt(param, value) == 1 for param, value in settings)


def configure(xla_flags: str | None = None, threads: int | None = None,
              compilation_cache: str | os.PathLike | None = None, pin_cpus: bool = False,
              keep_freed: bool = False) -> str:
    """Set ``XLA_FLAGS`` (and the persistent compilation cache, when a directory is given)
    for this process, with ``pin_cpus`` pin it to ``threads`` free CPUs, and with
    ``keep_freed`` call :func:`keep_heap`; returns the ``XLA_FLAGS`` value. Idempotent."""
    if "jax" in __import__("sys").modules:
        raise RuntimeError("mapmatters.mlp.runtime.configure must be called before jax is imported")
    if keep_freed:
        keep_heap()
    if pin_cpus and threads and not _HELD:
        pin_to_free_cpus(int(threads))
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
            "devices": [str(d) for d in jax.devices()], "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "cpus": sorted(os.sched_getaffinity(0))}


def configure_job(config: dict, threads: int | None) -> str:
    """:func:`configure` from a workflow config (``mlp_runtime``; the cache directory relative to
    ``results``)."""
    rt = config["mlp_runtime"]
    cache = rt.get("compilation_cache")
    if cache and not os.path.isabs(cache):
        cache = os.path.join(config["results"], cache)
    return configure(rt.get("xla_flags"), threads, cache, pin_cpus=rt["pin_cpus"],
                     keep_freed=rt["keep_heap"])
