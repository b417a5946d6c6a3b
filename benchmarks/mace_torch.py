#!/usr/bin/env python
"""Our JAX MACE against the reference PyTorch MACE, same CG frames, same hyperparameters.

    .venv/bin/python benchmarks/mace_torch.py \
        --dataset results/default/hexane/cg/three-site.h5 [--size default paper]

JAX side: ``mapmatters.mlp.model`` (InstaDeep's ``mlip`` MACE on jax-md neighbour lists) and
``mapmatters.simulate.md`` (jax-md BAOAB Langevin). PyTorch side: ``mace-torch``'s
``mace.modules.MACE`` behind an ASE calculator, driven by ASE's ``Langevin``. The two stacks
cannot share a venv, so the script runs in parts, each a subprocess of the parent (which
only loads the data, counts edges and prints the table):

- ``--worker jax``, run twice with the project venv and XLA's default flags: once with glibc's
  default heap, where XLA's large scratch blocks are mapped and unmapped on every call (the code
  before ``mlp_runtime.keep_heap``), once with the heap kept for reuse as the workflow's MLP jobs
  run (``mapmatters.mlp.runtime.keep_heap``; it must be set before jax starts a thread, hence a
  fresh process each);
- ``--worker torch``, run with ``.venv-torch/bin/python`` (see
  ``benchmarks/requirements-torch.txt``). This half imports nothing from ``mapmatters``.

Measured for each implementation and size: energy+forces wall time per call from positions
(median over ``--ef-calls`` calls, robust to other processes' bursts; neighbour list or
graph built inside the call, cycling over the first ``--frames`` frames),
and MD speed of a single chain (Langevin 300 K, friction 100/ps, dt 2 fs) over
``--md-steps`` timed steps after a warm-up (JAX: after the compiling chunk; the neighbour list
as the workflow's hexane runs have it: ``md.skin`` and ``md.capacity_margin`` of
``config/config.yaml``). Weights are
random (untrained): speed does not depend on them. The table is printed and written to
``benchmarks/results/mace_torch_<hostname>.txt``.

Units: the dataset is nm, kJ/mol, amu. The JAX model takes nm and works in Angstrom inside;
the torch model is given Angstrom positions (nm * 10) and an Angstrom cut-off, and its output
is read as kJ/mol, converted to eV (and eV/Angstrom) at the ASE calculator's edge. Masses go
to both integrators in amu.

Hyperparameter matching (checked: both models have the same number of parameters):

- mlip's first MACE layer has no residual and a species-wise linear after the interaction,
  which is mace-torch's ``RealAgnosticInteractionBlock``; later layers are residual, i.e.
  ``RealAgnosticResidualInteractionBlock``.
- mlip's radial basis: ``num_rbf`` Bessel functions times the polynomial envelope with p=5
  (``polynomial_envelope_updated``), i.e. mace-torch ``num_bessel``, ``num_polynomial_cutoff=5``.
- readout: mlip's ``readout_irreps=("8x0e", "0e")`` is mace-torch's ``MLP_irreps="8x0e"``
  with a SiLU gate; radial MLP hidden sizes and SiLU activations are the same.
- no atomic energies (mlip ``add_atomic_energies=False``, mace-torch ``atomic_energies=0``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: Model sizes. Keys are mapmatters.mlp.model config keys; the torch half maps them.
SIZES = {
    "default": {"hidden_irreps": "8x0e + 8x1o", "max_ell": 1, "readout_irreps": "8x0e",
                "radial_mlp_hidden": [16, 16], "num_rbf": 8, "num_layers": 2,
                "correlation": 2, "r_cut": 0.7},
    "paper": {"hidden_irreps": "32x0e + 32x1o", "max_ell": 3, "readout_irreps": "16x0e",
              "radial_mlp_hidden": [64, 64, 64], "num_rbf": 8, "num_layers": 2,
              "correlation": 2, "r_cut": 0.5},
}
#: mlip's polynomial envelope exponent (mlip.models.radial_embedding, p=5 by default).
POLYNOMIAL_P = 5

MD = {"temperature_K": 300.0, "friction_per_ps": 100.0, "dt_ps": 0.002}
STEPS_PER_FRAME, FRAMES_PER_CHUNK = 50, 2                   # JAX MD: 100 steps per chunk
#: the JAX variants: label -> keep the heap (mapmatters.mlp.runtime.keep_heap)
JAX_VARIANTS = {"glibc heap (before)": False, "kept heap (workflow)": True}
KB_KJ_MOL_K = 0.0083144626                                   # k_B in kJ/mol/K
TORCH_WARMUP_STEPS = 20
EF_WARMUP_CALLS = 3


# ------------------------------------------------------------------------------ helpers

def machine() -> dict:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"host": platform.node(), "cpu": cpu, "cores": os.cpu_count(),
            "platform": platform.platform()}


def ns_per_day(steps_per_s: float) -> float:
    return steps_per_s * MD["dt_ps"] * 86400.0 / 1000.0


def _busy_cpu_s() -> float:
    """CPU seconds all processes on the machine have used (from /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def timed_md_steps(requested: int) -> int:
    """Timed steps rounded up to whole JAX chunks; the torch half runs the same number."""
    chunk = STEPS_PER_FRAME * FRAMES_PER_CHUNK
    return chunk * max(1, math.ceil(requested / chunk))


def _versions(names) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            out[n] = "?"
    return out


# ------------------------------------------------------------------------------ JAX half

def jax_worker(spec: dict, data_path: Path) -> dict:
    """Energy+forces and MD speed of mapmatters' JAX MACE (project venv)."""
    from mapmatters.mlp import runtime
    runtime.configure(None, None, keep_freed=spec["keep_heap"])     # before jax is imported
    import jax
    import jax.numpy as jnp
    import numpy as np

    from mapmatters.mlp import model as M
    from mapmatters.mlp import neighbors as NB
    from mapmatters.simulate import md

    d = dict(np.load(data_path))
    size = SIZES[spec["size"]]
    cfg = M.model_config(dict(size, avg_num_neighbors=spec["avg_neighbors"]))
    m = M.build(cfg, d["species"], d["box"])
    R = jnp.asarray(d["R"])
    nb = NB.allocate(m.neighbor_fn(), R[0], spec["capacity"])
    params = m.init(jax.random.PRNGKey(0), R[0], nb)
    efn = m.energy_fn_template(params)

    force_call = jax.jit(jax.value_and_grad(lambda r, nbrs: efn(r, neighbor=nbrs.update(r))))
    t0 = time.perf_counter()
    jax.block_until_ready(force_call(R[0], nb))
    compile_s = time.perf_counter() - t0
    for k in range(EF_WARMUP_CALLS):
        jax.block_until_ready(force_call(R[k % len(R)], nb))
    n_calls = spec["ef_calls"]
    times = []
    for k in range(n_calls):
        t0 = time.perf_counter()
        jax.block_until_ready(force_call(R[k % len(R)], nb))
        times.append(time.perf_counter() - t0)
    ef_ms = float(np.median(times)) * 1e3
    if NB.overflowed(jax.vmap(nb.update)(R)):
        raise RuntimeError("neighbour list overflowed on the benchmark frames")

    steps = spec["md_steps"]
    n_frames = FRAMES_PER_CHUNK * (1 + steps // (STEPS_PER_FRAME * FRAMES_PER_CHUNK))
    every_ps = STEPS_PER_FRAME * MD["dt_ps"]
    from mlp_speed import workflow_md_list
    nlist = workflow_md_list()       # the workflow's MD list: skin and slots per pair
    sysm = md.system_from_model(m, params, d["masses"], skin=nlist["skin"])
    with tempfile.TemporaryDirectory(prefix="mace_bench_md_") as tmp:
        out = Path(tmp) / "md.h5"
        res = md.run(sysm, d["R"][:1], out,
                     md.loop_config({**MD, **nlist, "frame_every_ps": every_ps,
                                     "length_ps": n_frames * every_ps, "frames_per_chunk": FRAMES_PER_CHUNK}),
                     resume=False, log=lambda s: print(s, flush=True))
        import h5py
        with h5py.File(out, "r") as f:
            traj = f["positions"][:, 0]
    md_edges = NB.count_edges(traj, d["box"], size["r_cut"]).avg_neighbors * traj.shape[1]
    speed = res["speed"]
    return {
        "ef_ms": ef_ms, "ef_calls": n_calls, "compile_s": compile_s,
        "steps_per_s": speed["steps_per_s"], "timed_steps": speed["timed_steps"],
        "md_T": res["mean_kT"] / KB_KJ_MOL_K, "md_edges": md_edges,
        "slots_ef": spec["capacity"], "slots_md": res["capacity"],
        "reallocations": res["reallocations"], "md_list": nlist,
        "n_params": int(sum(x.size for x in jax.tree.leaves(params))),
        "backend": jax.default_backend(), "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "versions": _versions(["jax", "jaxlib", "mlip", "jax-md", "e3nn-jax", "flax"]),
    }


# ------------------------------------------------------------------------------ torch half

def torch_worker(spec: dict, data_path: Path) -> dict:
    """Energy+forces and ASE Langevin speed of mace-torch (.venv-torch)."""
    import warnings
    warnings.filterwarnings("ignore")     # e3nn/TorchScript chatter at model construction
    import logging
    logging.disable(logging.WARNING)
    import ase
    import mace  # noqa: F401  (before e3nn: mace sets how e3nn's constants load on torch>=2.6)
    import numpy as np
    import torch
    from ase import units
    from ase.calculators.calculator import Calculator, all_changes
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from e3nn import o3
    from mace import data as mace_data
    from mace import modules
    from mace.calculators import MACECalculator
    from mace.tools import torch_geometric, utils

    torch.set_num_threads(spec["torch_threads"])
    torch.set_default_dtype(torch.float32)
    d = dict(np.load(data_path))
    size = SIZES[spec["size"]]
    n_species = int(d["species"].max()) + 1
    z = d["species"].astype(int) + 1          # pseudo atomic numbers, as in mapmatters
    r_max = 10.0 * size["r_cut"]               # Angstrom
    kj_mol_to_ev = units.kJ / units.mol

    model = modules.MACE(
        r_max=r_max, num_bessel=size["num_rbf"], num_polynomial_cutoff=POLYNOMIAL_P,
        max_ell=size["max_ell"],
        interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        interaction_cls_first=modules.interaction_classes["RealAgnosticInteractionBlock"],
        num_interactions=size["num_layers"], num_elements=n_species,
        hidden_irreps=o3.Irreps(size["hidden_irreps"]),
        MLP_irreps=o3.Irreps(size["readout_irreps"]),
        atomic_energies=np.zeros(n_species), avg_num_neighbors=spec["avg_neighbors"],
        atomic_numbers=list(range(1, n_species + 1)), correlation=size["correlation"],
        gate=torch.nn.functional.silu, radial_MLP=list(size["radial_mlp_hidden"]),
    ).float()
    n_params = int(sum(p.numel() for p in model.parameters()))
    for p in model.parameters():
        p.requires_grad_(False)               # as MACECalculator does: only dE/dpositions
    z_table = utils.AtomicNumberTable(list(range(1, n_species + 1)))

    class EnergyForces(Calculator):
        """Energy and forces only (no stress), graph built by mace's own data pipeline."""

        implemented_properties = ["energy", "free_energy", "forces"]

        def __init__(self):
            super().__init__()
            self.edges: list[int] = []

        def calculate(self, atoms=None, properties=None, system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            config = mace_data.config_from_atoms(self.atoms)
            graph = mace_data.AtomicData.from_config(config, z_table=z_table, cutoff=r_max)
            self.edges.append(int(graph["edge_index"].shape[1]))
            batch = torch_geometric.Batch.from_data_list([graph])
            out = model(batch.to_dict(), compute_force=True, compute_stress=False,
                        training=False)
            e = float(out["energy"].detach()[0]) * kj_mol_to_ev
            self.results = {"energy": e, "free_energy": e,
                            "forces": out["forces"].detach().numpy().astype(np.float64)
                            * kj_mol_to_ev}

    def make_atoms(calc):
        atoms = ase.Atoms(numbers=z, positions=d["R"][0] * 10.0, cell=np.diag(d["box"] * 10.0),
                          pbc=True, masses=d["masses"])
        atoms.calc = calc
        return atoms

    def time_forces(atoms) -> float:
        R = d["R"]
        for k in range(EF_WARMUP_CALLS):
            atoms.positions = R[k % len(R)] * 10.0
            atoms.get_forces()
        times = []
        for k in range(spec["ef_calls"]):
            atoms.positions = R[k % len(R)] * 10.0
            t0 = time.perf_counter()
            atoms.get_forces()
            times.append(time.perf_counter() - t0)
        return float(np.median(times)) * 1e3

    def run_md(atoms) -> tuple[float, float]:
        atoms.positions = d["R"][0] * 10.0
        MaxwellBoltzmannDistribution(atoms, temperature_K=MD["temperature_K"],
                                     rng=np.random.default_rng(0))
        dyn = Langevin(atoms, timestep=MD["dt_ps"] * 1000.0 * units.fs,
                       temperature_K=MD["temperature_K"],
                       friction=MD["friction_per_ps"] / (1000.0 * units.fs),   # 1/ps -> ASE 1/time
                       fixcm=False, rng=np.random.default_rng(1))
        dyn.run(TORCH_WARMUP_STEPS)
        temps: list[float] = []
        dyn.attach(lambda: temps.append(atoms.get_temperature()), interval=10)
        t0 = time.perf_counter()
        dyn.run(spec["md_steps"])
        sps = spec["md_steps"] / (time.perf_counter() - t0)
        return sps, float(np.mean(temps))

    results = {}
    lean = EnergyForces()
    atoms = make_atoms(lean)
    atoms.get_forces()
    edges0 = lean.edges[0]
    ef_ms = time_forces(atoms)
    print(f"[torch] energy+forces calculator: {ef_ms:.2f} ms/call", flush=True)
    lean.edges.clear()
    sps, temp = run_md(atoms)
    print(f"[torch] energy+forces calculator: {sps:.2f} MD steps/s, <T> {temp:.0f} K", flush=True)
    results["lean"] = {"ef_ms": ef_ms, "steps_per_s": sps, "md_T": temp,
                       "md_edges": float(np.mean(lean.edges)), "edges0": edges0}

    stock = MACECalculator(models=model, device="cpu", default_dtype="float32",
                           energy_units_to_eV=kj_mol_to_ev)
    atoms = make_atoms(stock)
    ef_ms = time_forces(atoms)
    sps, temp = run_md(atoms)
    print(f"[torch] MACECalculator: {ef_ms:.2f} ms/call, {sps:.2f} MD steps/s", flush=True)
    results["stock"] = {"ef_ms": ef_ms, "steps_per_s": sps, "md_T": temp}

    return {"results": results, "n_params": n_params, "timed_steps": spec["md_steps"],
            "ef_calls": spec["ef_calls"],
            "threads": {"intra_op": torch.get_num_threads(),
                        "inter_op": torch.get_num_interop_threads()},
            "versions": dict(_versions(["mace-torch", "e3nn", "ase", "matscipy", "numpy"]),
                             torch=torch.__version__)}


# ------------------------------------------------------------------------------ parent

def _run_worker(kind: str, python: str, spec: dict, work: Path, tag: str, env_update: dict,
                env_drop=()) -> tuple[dict, dict]:
    """Run one half in a subprocess; returns its result and the machine load meanwhile."""
    spec_path = work / f"spec_{tag}.json"
    result_path = work / f"result_{tag}.json"
    log_path = work / f"log_{tag}.txt"
    spec_path.write_text(json.dumps(spec))
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    env.update(env_update)
    cmd = [python, str(Path(__file__).resolve()), "--worker", kind, "--spec", str(spec_path),
           "--data", str(work / "frames.npz"), "--result", str(result_path)]
    print(f"[mace_torch] {tag} ...", file=sys.stderr, flush=True)
    busy0, own0, t0 = _busy_cpu_s(), _own_cpu_s(), time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    wall = time.perf_counter() - t0
    others = max(0.0, ((_busy_cpu_s() - busy0) - (_own_cpu_s() - own0)) / wall)
    if proc.returncode != 0:
        sys.stderr.write(log_path.read_text()[-6000:])
        raise SystemExit(f"{tag}: worker failed (exit {proc.returncode}); log above")
    print(f"[mace_torch] {tag} done in {wall:.0f} s", file=sys.stderr, flush=True)
    return json.loads(result_path.read_text()), {"wall_s": wall, "other_cores": others}


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", type=Path,
                    default=ROOT / "results/default/hexane/cg/three-site.h5")
    ap.add_argument("--size", nargs="+", choices=sorted(SIZES), default=["default", "paper"])
    ap.add_argument("--frames", type=int, default=50, help="frames read from the dataset")
    ap.add_argument("--ef-calls", type=int, default=100, help="timed energy+forces calls")
    ap.add_argument("--md-steps", type=int, default=400,
                    help="timed MD steps (rounded up to whole 100-step JAX chunks)")
    ap.add_argument("--torch-threads", type=int, default=2)
    ap.add_argument("--torch-python", default=str(ROOT / ".venv-torch/bin/python"))
    ap.add_argument("--out", type=Path, default=None,
                    help="report file (default benchmarks/results/mace_torch_<hostname>.txt)")
    # internal: one half of the benchmark in its own process
    ap.add_argument("--worker", choices=["jax", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        spec = json.loads(args.spec.read_text())
        fn = jax_worker if args.worker == "jax" else torch_worker
        args.result.write_text(json.dumps(fn(spec, args.data)))
        return 0

    if not Path(args.torch_python).exists():
        raise SystemExit(f"{args.torch_python} not found: create it as described in "
                         "benchmarks/requirements-torch.txt")
    load_start = os.getloadavg()
    import numpy as np

    from mapmatters.mlp import neighbors as NB
    from mapmatters.mlp.train import load_frames

    d = load_frames(args.dataset, max_frames=args.frames)
    if d["box"] is None or np.ptp(d["box"]) > 1e-6:
        raise SystemExit("this benchmark needs a cubic periodic box")
    n_beads = len(d["species"])
    steps = timed_md_steps(args.md_steps)
    mach = machine()
    rows, notes, info = [], [], {}
    with tempfile.TemporaryDirectory(prefix="mace_bench_") as tmp:
        work = Path(tmp)
        np.savez(work / "frames.npz", R=d["R"], box=d["box"], species=d["species"],
                 masses=d["masses"])
        for size in args.size:
            stats = NB.count_edges(d["R"], d["box"], SIZES[size]["r_cut"])
            edges0 = NB.count_edges(d["R"][:1], d["box"], SIZES[size]["r_cut"]).max_edges
            spec = {"size": size, "avg_neighbors": stats.avg_neighbors,
                    "capacity": NB.capacity_for(stats), "ef_calls": args.ef_calls,
                    "md_steps": steps, "torch_threads": args.torch_threads}
            jx = {}
            for k, (label, keep) in enumerate(JAX_VARIANTS.items()):
                jx[label] = _run_worker(
                    "jax", sys.executable, dict(spec, keep_heap=keep), work, f"{size}-jax-{k}",
                    {}, env_drop=("XLA_FLAGS",))
            tr, tr_load = _run_worker("torch", args.torch_python, spec, work, f"{size}-torch", {})
            ref = tr["results"]["lean"]
            if ref["edges0"] != edges0:
                notes.append(f"{size}: edge count differs at frame 0 (jax {edges0}, "
                             f"mace {ref['edges0']})")

            def row(name, ef_ms, sps, temp, md_edges, slots, load):
                return [name, size, str(n_beads), str(edges0), slots, f"{ef_ms:.2f}",
                        f"{sps:.1f}", f"{ns_per_day(sps):.2f}", f"{temp:.0f}",
                        f"{md_edges:.0f}", f"{ref['ef_ms'] / ef_ms:.2f}",
                        f"{sps / ref['steps_per_s']:.2f}", f"{load:.2f}"]

            for label, (r, load) in jx.items():
                rows.append(row(f"JAX mlip+jax-md, {label}", r["ef_ms"], r["steps_per_s"],
                                r["md_T"], r["md_edges"], f"{r['slots_ef']}/{r['slots_md']}",
                                load["other_cores"]))
                if r["reallocations"]:
                    notes.append(f"{size} {label}: {r['reallocations']} neighbour-list "
                                 "re-allocation(s) during MD (their chunks are not timed)")
                if r["n_params"] != tr["n_params"]:
                    notes.append(f"{size}: parameter counts differ (jax {r['n_params']}, "
                                 f"torch {tr['n_params']})")
            rows.append(row("mace-torch+ASE, E+F calculator (ref)", ref["ef_ms"],
                            ref["steps_per_s"], ref["md_T"], ref["md_edges"], "-",
                            tr_load["other_cores"]))
            st = tr["results"]["stock"]
            rows.append(row("mace-torch+ASE, MACECalculator", st["ef_ms"], st["steps_per_s"],
                            st["md_T"], ref["md_edges"], "-", tr_load["other_cores"]))
            info = {"jax": next(iter(jx.values()))[0], "torch": tr}
            notes.append(f"{size}: {tr['n_params']} parameters in both models; avg neighbours "
                         f"{stats.avg_neighbors:.2f} (over {stats.n_frames} frames); r_cut "
                         f"{SIZES[size]['r_cut']} nm; JAX compile of one force call "
                         f"{next(iter(jx.values()))[0]['compile_s']:.1f} s")
    load_end = os.getloadavg()

    jv, tv = info["jax"]["versions"], info["torch"]["versions"]
    th = info["torch"]["threads"]
    header = ["implementation", "size", "beads", "edges", "JAX slots E+F/MD", "E+F ms/call",
              "MD steps/s", "ns/day", "MD <T> K", "MD edges", "E+F x", "MD x", "bg cores"]
    lines = [
        "MACE speed: JAX (mlip + jax-md, mapmatters.mlp.model) vs PyTorch (mace-torch + ASE)",
        f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"machine: {mach['host']}: {mach['cpu']}, {mach['cores']} cores, {mach['platform']}",
        f"dataset: {args.dataset} (first {len(d['R'])} frames, {n_beads} beads, "
        f"{int(d['species'].max()) + 1} bead types, cubic box {d['box'][0]:.4f} nm)",
        f"JAX: jax {jv['jax']} ({info['jax']['backend']}, XLA uses all cores), "
        f"jaxlib {jv['jaxlib']}, mlip {jv['mlip']}, jax-md {jv['jax-md']}, "
        f"e3nn-jax {jv['e3nn-jax']}, flax {jv['flax']}",
        f"torch: torch {tv['torch']} (torch.set_num_threads({args.torch_threads}): "
        f"{th['intra_op']} intra-op, {th['inter_op']} inter-op threads), mace-torch "
        f"{tv['mace-torch']}, e3nn {tv['e3nn']}, ase {tv['ase']}, matscipy {tv['matscipy']}",
        "XLA flags: XLA's defaults; heap: glibc's defaults (before) or kept for reuse "
        "(mapmatters.mlp.runtime.keep_heap, as the workflow runs)",
        f"MD: one chain from frame 0, Langevin {MD['temperature_K']:.0f} K, friction "
        f"{MD['friction_per_ps']:.0f}/ps, dt {MD['dt_ps'] * 1000:.0f} fs, {steps} timed steps (JAX: after "
        f"the compiling {STEPS_PER_FRAME * FRAMES_PER_CHUNK}-step chunk; ASE: after "
        f"{TORCH_WARMUP_STEPS} steps); E+F: {args.ef_calls} timed calls over the frames",
        f"load average (1/5/15 min) at start: {' '.join(f'{x:.2f}' for x in load_start)}; "
        f"at end: {' '.join(f'{x:.2f}' for x in load_end)} (includes this benchmark)",
    ]
    if load_start[0] > 1.5 or any(float(r[-1]) > 0.3 for r in rows):
        lines.append("NOTE: taken on a shared machine (load average > 1.5 or other processes "
                     "busy during the run, see 'bg cores'): the numbers are pessimistic and the "
                     "ratios unreliable (torch's OpenMP threads stall far more than XLA's "
                     "thread pool when a core is taken); re-run on an idle machine")
    lines += ["", _table(rows, header), "",
              "edges: directed bead pairs within r_cut at frame 0. JAX slots: the fixed "
              "neighbour-list size the JAX model computes on (padding included) for E+F / MD.",
              "E+F: median wall time of one energy+forces call from positions (neighbour "
              "list or graph built inside).",
              "MD <T>, MD edges: mean kinetic temperature and edge count along the MD "
              "(random weights: beads move almost freely).",
              "E+F x, MD x: speed relative to the mace-torch E+F calculator row (>1: faster "
              "than mace-torch). MACECalculator also computes the stress on every call.",
              "bg cores: CPU cores used by other processes while that row's half ran.",
              "JAX MD also evaluates the energy once per 50-step frame (md.run's record).",
              f"JAX MD list: the workflow's hexane settings, skin {info['jax']['md_list']['skin']} nm "
              f"(rebuilt when a bead has moved half of it), {info['jax']['md_list']['capacity_margin']} "
              "slots per pair (MD slots above include the skin's pairs).",
              ] + notes
    report = "\n".join(lines)
    print(report)
    out = args.out or HERE / "results" / f"mace_torch_{mach['host']}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")
    print(f"\nwritten to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
