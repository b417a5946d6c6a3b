"""MACE / NequIP energy models from mlip: symmetry, forces = -grad E, periodic images, files."""
import numpy as np
import pytest

from mapmatters.mlp import compat

ok, why = compat.stack_available()
pytestmark = pytest.mark.skipif(not ok, reason=why)

TINY = {"num_layers": 2, "correlation": 2, "hidden_irreps": "8x0e + 8x1o", "max_ell": 2,
        "radial_mlp_hidden": [16], "r_cut": 0.5}


def _rot(seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))  # proper rotation


@pytest.fixture(scope="module")
def molecule():
    """A 14-bead non-periodic 'peptide' (free space) with a MACE model and an energy function."""
    import jax
    import jax.numpy as jnp

    from mapmatters.mlp import model as M

    rng = np.random.default_rng(0)
    R = np.cumsum(rng.normal(scale=0.2, size=(14, 3)), axis=0).astype(np.float32)
    species = np.array([0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 2])
    m = M.build(TINY, species, None)
    nf = m.neighbor_fn(capacity_multiplier=2.0)
    nbrs = nf.allocate(jnp.asarray(R))
    params = m.init(jax.random.PRNGKey(1), R, nbrs)
    efn = m.energy_fn_template(params)

    @jax.jit
    def energy(r):
        return efn(r, neighbor=nbrs.update(r))

    return m, R, energy, params, nbrs


def test_invariance_rotation_translation_reflection(molecule):
    import jax.numpy as jnp

    _, R, energy, _, _ = molecule
    e0 = float(energy(jnp.asarray(R)))
    assert abs(e0) > 1e-4  # a non-trivial energy
    for seed in range(3):
        Q = _rot(seed)
        c = R.mean(0)
        for T in (Q, -Q, np.diag([-1.0, 1, 1])):  # rotation, improper rotation, mirror
            R2 = ((R - c) @ T.T + c + np.array([0.3, -1.1, 2.0])).astype(np.float32)
            assert float(energy(jnp.asarray(R2))) == pytest.approx(e0, rel=2e-5, abs=2e-5)
    # permuting beads of the same species leaves the energy unchanged
    perm = np.arange(len(R))
    perm[[0, 4]] = [4, 0]
    # (swap of two species-0 beads: positions swapped, species unchanged)
    assert float(energy(jnp.asarray(R[perm]))) == pytest.approx(e0, rel=2e-5, abs=2e-5)


def test_forces_are_minus_gradient_finite_differences(molecule):
    import jax
    import jax.numpy as jnp

    _, R, energy, _, _ = molecule
    F = -np.asarray(jax.grad(energy)(jnp.asarray(R)))
    assert np.isfinite(F).all() and np.abs(F).max() > 1e-3
    h = 2e-3  # nm; float32 energies
    rng = np.random.default_rng(3)
    for _ in range(6):
        i, k = rng.integers(len(R)), rng.integers(3)
        Rp, Rm = R.copy(), R.copy()
        Rp[i, k] += h
        Rm[i, k] -= h
        fd = -(float(energy(jnp.asarray(Rp))) - float(energy(jnp.asarray(Rm)))) / (2 * h)
        assert fd == pytest.approx(F[i, k], rel=2e-2, abs=float(2e-3 * np.abs(F).max()))
    # no net force on an isolated molecule (translation invariance)
    assert np.abs(F.sum(0)).max() < 1e-4 * np.abs(F).sum()


def test_periodic_images_and_cubic_symmetry():
    """In a periodic box: wrapping, translations and cube symmetries leave E unchanged."""
    import jax
    import jax.numpy as jnp

    from mapmatters.mlp import model as M
    from mapmatters.simulate.potentials import synthetic_dimers

    d = synthetic_dimers(1, seed=5)
    R, box = d["R"][0], d["box"]
    m = M.build(TINY, d["species"], box)
    nf = m.neighbor_fn(capacity_multiplier=3.0)
    nbrs = nf.allocate(jnp.asarray(R))
    params = m.init(jax.random.PRNGKey(0), R, nbrs)
    efn = m.energy_fn_template(params)
    energy = jax.jit(lambda r: efn(r, neighbor=nbrs.update(r)))
    e0 = float(energy(jnp.asarray(R)))
    shift = np.mod(R + np.array([0.7, 1.3, -0.4]), box).astype(np.float32)
    assert float(energy(jnp.asarray(shift))) == pytest.approx(e0, rel=2e-5, abs=2e-5)
    perm_axes = R[:, [1, 2, 0]]  # 120-degree rotation about the cube diagonal
    assert float(energy(jnp.asarray(perm_axes))) == pytest.approx(e0, rel=2e-5, abs=2e-5)
    mirror = np.mod(-R, box).astype(np.float32)  # inversion through the origin, re-wrapped
    assert float(energy(jnp.asarray(mirror))) == pytest.approx(e0, rel=2e-5, abs=2e-5)
    # a bead pair across the boundary interacts (energy changes when it is moved apart)
    assert m.periodic and m.r_cut == 0.5


def test_nequip_and_param_file_roundtrip(tmp_path, molecule):
    import jax
    import jax.numpy as jnp

    from mapmatters.mlp import model as M

    m, R, energy, params, nbrs = molecule
    M.save_params(tmp_path / "p.pkl", params, m.config, extra={"note": 1})
    p2, cfg2, extra = M.load_params(tmp_path / "p.pkl")
    assert cfg2 == m.config and extra == {"note": 1}
    m2 = M.build(cfg2, m.species, None)
    e2 = m2.energy_fn_template(p2)(jnp.asarray(R), neighbor=nbrs.update(jnp.asarray(R)))
    assert float(e2) == pytest.approx(float(energy(jnp.asarray(R))), rel=1e-6, abs=1e-6)

    nq = M.build({"model": "nequip", "num_layers": 1, "hidden_irreps": "8x0e + 8x1o",
                  "max_ell": 1, "nequip_radial_mlp_hidden": [8]}, m.species, None)
    pq = nq.init(jax.random.PRNGKey(2), R, nbrs)
    fq = jax.grad(lambda r: nq.energy_fn_template(pq)(r, neighbor=nbrs.update(r)))(jnp.asarray(R))
    assert np.isfinite(np.asarray(fq)).all()
    Q = _rot(7)
    eq = nq.energy_fn_template(pq)
    a = float(eq(jnp.asarray(R), neighbor=nbrs.update(jnp.asarray(R))))
    R2 = jnp.asarray((R @ Q.T).astype(np.float32))
    b = float(eq(R2, neighbor=nbrs.update(R2)))
    assert a == pytest.approx(b, rel=2e-5, abs=2e-5)


def test_config_validation():
    from mapmatters.mlp import model as M

    with pytest.raises(ValueError):
        M.model_config({"hidden_irreps": "32x0e + 16x1o"})
    with pytest.raises(ValueError):
        M.model_config({"bogus": 1})
    cfg = M.model_config()
    assert cfg["correlation"] == 2 and cfg["num_layers"] == 2 and cfg["num_rbf"] == 8
    assert cfg["hidden_irreps"] == "32x0e + 32x1o" and cfg["readout_irreps"] == "16x0e"


def test_runtime_drops_unsupported_xla_flag():
    """``--xla_cpu_use_thunk_runtime`` (no longer supported by XLA) is dropped from the flags."""
    import os
    import subprocess
    import sys

    code = ("from mapmatters.mlp import runtime; print(runtime.configure("
            "'--xla_cpu_use_fusion_emitters=false --xla_cpu_use_thunk_runtime=false', 1))")
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    assert "--xla_cpu_use_fusion_emitters=false" in out
    assert not any(f.startswith("--xla_cpu_use_thunk_runtime") for f in out)


def test_claim_cpus_gives_each_holder_its_own_cpus(tmp_path):
    """Per-CPU locks: two claimants of one CPU each get a different one, a third finds none free
    (and is left unpinned), a closed holder frees its CPU, and a claim of every CPU pins nothing."""
    from mapmatters.mlp import runtime

    a, fa = runtime.claim_cpus(1, allowed={0, 1}, lock_dir=str(tmp_path))
    b, fb = runtime.claim_cpus(1, allowed={0, 1}, lock_dir=str(tmp_path))
    assert a == [0] and b == [1]
    assert runtime.claim_cpus(1, allowed={0, 1}, lock_dir=str(tmp_path)) == ([], [])
    for fh in fa:
        fh.close()
    c, fc = runtime.claim_cpus(1, allowed={0, 1}, lock_dir=str(tmp_path))
    assert c == [0]
    assert runtime.claim_cpus(2, allowed={0, 1}, lock_dir=str(tmp_path / "other")) == ([], [])
    d, fd = runtime.claim_cpus(2, allowed={0, 1, 2, 3}, lock_dir=str(tmp_path / "four"))
    assert d == [0, 1]
    for fh in fb + fc + fd:
        fh.close()


def test_configure_pins_a_job_and_xla_follows(tmp_path):
    """With ``pin_cpus`` a 1-thread job runs on one CPU, and a second job at the same time on
    another one (the lock of the first is held until its process ends)."""
    import os
    import subprocess
    import sys

    if len(os.sched_getaffinity(0)) < 2:
        import pytest
        pytest.skip("needs two CPUs")
    code = ("import os, sys; from mapmatters.mlp import runtime; runtime.configure('', 1, None, pin_cpus=True); "
            "import jax, jax.numpy as jnp; jax.jit(lambda x: x + 1)(1.0); "
            "print(sorted(os.sched_getaffinity(0)), flush=True); sys.stdin.read()")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLA_FLAGS", "JAX_"))}
    env["MAPMATTERS_CPU_LOCKS"] = str(tmp_path)
    first = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, env=env)
    try:
        cpus1 = first.stdout.readline().strip()
        second = subprocess.run([sys.executable, "-c", code], input="", capture_output=True, text=True,
                                env=env, check=True).stdout.strip()
    finally:
        first.communicate("")
    assert cpus1.count(",") == 0 and second.count(",") == 0, (cpus1, second)
    assert cpus1 != second


def test_compilation_cache_is_written_and_reused(tmp_path):
    """``configure_job`` points JAX's persistent cache at ``results/<compilation_cache>``: a first
    process fills it (every compilation, however short), a second one adds nothing new."""
    import os
    import subprocess
    import sys

    code = ("from mapmatters.mlp import runtime; "
            f"runtime.configure_job({{'results': {str(tmp_path)!r}, 'mlp_runtime': "
            "{'xla_flags': '', 'threads': 1, 'pin_cpus': False, 'keep_heap': True, 'gpu': 0, "
            "'compilation_cache': 'jc'}}, 1); "
            "import jax, jax.numpy as jnp; print(float(jax.jit(lambda x: jnp.sin(x) * 2)(1.0)))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLA_FLAGS", "JAX_"))}
    out1 = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    entries = sorted(p.name for p in (tmp_path / "jc").iterdir())
    assert entries, "nothing cached"
    out2 = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out1.stdout == out2.stdout
    assert sorted(p.name for p in (tmp_path / "jc").iterdir()) == entries


def test_keep_heap_stops_xla_scratch_from_being_mapped_anew_on_every_call():
    """XLA's CPU runtime takes large buffers with malloc; with glibc's defaults each call maps
    them afresh and the kernel zero-fills every page (one page fault per 4 KiB), with
    ``keep_heap`` the freed memory is reused: the same computation, same result, and (almost)
    no page faults once the heap has grown to its working size. (Aligned allocations leave
    gaps that the next block does not fit, so the heap grows for some calls before it settles:
    up to ~100 calls and 12 blocks in trials of this computation, hence the long warm-up.)"""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, resource, sys; from mapmatters.mlp import runtime; "
        "runtime.configure('', 1, None, keep_freed=sys.argv[1] == 'keep'); "
        "import jax, jax.numpy as jnp; "
        "f = jax.jit(lambda x: jnp.outer(x, x) * 2.0); x = jnp.linspace(0.0, 1.0, 4096); "
        "[float(f(x).block_until_ready()[0, 0]) for _ in range(250)]; "
        "m0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt; "
        "s = [float(f(x).block_until_ready()[4095, 4095]) for _ in range(20)]; "
        "m1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt; "
        "print(json.dumps({'faults': (m1 - m0) / 20, 'value': s[-1]}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLA_FLAGS", "JAX_", "MALLOC_"))}
    out = {}
    for heap in ("free", "keep"):
        p = subprocess.run([sys.executable, "-c", code, heap], capture_output=True, text=True,
                           env=env, check=True)
        out[heap] = json.loads(p.stdout.strip().splitlines()[-1])
    pages = 4096 * 4096 * 4 / 4096          # one 64 MiB float32 result per call
    assert out["free"]["value"] == out["keep"]["value"] == 2.0
    assert out["free"]["faults"] > 0.5 * pages, out
    assert out["keep"]["faults"] < 0.02 * pages, out
