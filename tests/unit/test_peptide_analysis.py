"""Peptide analyses (Ramachandran, chirality, helicity) against independent values.

Independent references: angles requested from the internal-coordinate builder, mdtraj's
compute_phi/psi, a hand-built CIP (S) centre, closed forms for an analytic helix and for
von Mises densities, and hand-counted points.
"""
import math

import numpy as np
import pytest

from mapmatters.analysis import helix as hx
from mapmatters.analysis import ramachandran as rama
from mapmatters.reference.peptide import build_peptide, pdb_text
from mapmatters.units import KJ_TO_KCAL, kT

CORE = ["ACE1-C", "ALA2-N", "ALA2-CA", "ALA2-C", "NME3-N"]
CORE_BETA = ["ACE1-C", "ALA2-N", "ALA2-CA", "ALA2-CB", "ALA2-C", "NME3-N"]


def _beads(atoms, keep=None):
    """Bead names <RES><num>-<name> and positions in nm of built atoms (Angstrom)."""
    sel = [a for a in atoms if keep is None or a.name in keep]
    return [f"{a.resname}{a.resid}-{a.name}" for a in sel], np.array([a.xyz for a in sel]) * 0.1


# ----------------------------------------------------------------- bead patterns
def test_bead_names_and_patterns():
    assert rama.parse_bead_name("ALA12-CA") == ("ALA", 12, "CA")
    assert rama.parse_bead_name("NME3-N") == ("NME", 3, "N")
    with pytest.raises(ValueError):
        rama.parse_bead_name("C1")
    q, lab = rama.bead_quads(CORE_BETA, rama.PHI)
    assert q.tolist() == [[0, 1, 2, 4]] and lab == ["ALA2"]
    assert rama.bead_quads(CORE_BETA, rama.PSI)[0].tolist() == [[1, 2, 4, 5]]
    assert rama.bead_quads(CORE_BETA, rama.CHIRALITY)[0].tolist() == [[1, 2, 3, 4]]
    assert rama.bead_quads(CORE, rama.CHIRALITY)[0].shape == (0, 4)   # no CB: skipped
    # two copies of the molecule: numbering restarts, so no phi across the molecules
    q2, lab2 = rama.bead_quads(CORE + CORE, rama.PHI)
    assert q2.tolist() == [[0, 1, 2, 3], [5, 6, 7, 8]] and lab2 == ["ALA2", "ALA2"]
    q3, _ = rama.bead_quads(CORE + CORE, rama.PSI)
    assert q3.tolist() == [[1, 2, 3, 4], [6, 7, 8, 9]]


# ----------------------------------------------------------------- phi / psi
ANGLES = [(-60.0, -45.0), (-139.0, 135.0), (75.0, -65.0), (-80.0, 170.0)]
SEQ = ["ACE"] + ["ALA"] * len(ANGLES) + ["NME"]


def test_phi_psi_match_requested_angles_and_mdtraj(tmp_path):
    md = pytest.importorskip("mdtraj")
    atoms = build_peptide(SEQ, ANGLES)
    names, x = _beads(atoms)
    phi, psi, labels = rama.phi_psi(x, names)
    assert labels == [f"ALA{i}" for i in range(2, 2 + len(ANGLES))]
    np.testing.assert_allclose(phi, [a for a, _ in ANGLES], atol=1e-6)
    np.testing.assert_allclose(psi, [b for _, b in ANGLES], atol=1e-6)
    # Core beads only (what a CG dataset holds) give the same angles
    cn, cx = _beads(atoms, keep={"C", "N", "CA"})
    phi_c, psi_c, _ = rama.phi_psi(cx[None], cn)
    np.testing.assert_allclose(phi_c[0], phi, atol=1e-9)
    np.testing.assert_allclose(psi_c[0], psi, atol=1e-9)
    # mdtraj on the same coordinates, read back from a PDB
    pdb = tmp_path / "pep.pdb"
    pdb.write_text(pdb_text(atoms))
    t = md.load(str(pdb))
    tn = [f"{a.residue.name}{a.residue.resSeq}-{a.name}" for a in t.topology.atoms]
    phi_t, psi_t, _ = rama.phi_psi(t.xyz.astype(float), tn)
    np.testing.assert_allclose(phi_t, np.degrees(md.compute_phi(t)[1]), atol=1e-3)
    np.testing.assert_allclose(psi_t, np.degrees(md.compute_psi(t)[1]), atol=1e-3)
    # mirror image: (phi, psi) -> (-phi, -psi)
    m = x * np.array([-1.0, 1.0, 1.0])
    phi_m, psi_m, _ = rama.phi_psi(m, names)
    np.testing.assert_allclose(phi_m, -phi, atol=1e-6)
    np.testing.assert_allclose(psi_m, -psi, atol=1e-6)


def test_chain_reversal_swaps_phi_and_psi():
    rng = np.random.default_rng(1)
    frames = []
    for a, b in rng.uniform(-179, 179, size=(20, 2)):
        frames.append(_beads(build_peptide(["ACE", "ALA", "NME"], (a, b)), keep={"C", "N", "CA"})[1])
    cn = _beads(build_peptide(["ACE", "ALA", "NME"], (0, 0)), keep={"C", "N", "CA"})[0]
    assert cn == CORE
    x = np.array(frames)
    phi, psi, _ = rama.phi_psi(x, CORE)
    phi_r, psi_r, _ = rama.phi_psi(x[:, ::-1], CORE)     # same names, beads read backwards
    np.testing.assert_allclose(phi_r, psi, atol=1e-9)
    np.testing.assert_allclose(psi_r, phi, atol=1e-9)
    P, _ = rama.ramachandran_histogram(np.r_[phi, phi_r], np.r_[psi, psi_r])
    assert rama.reversal_symmetry(P) == pytest.approx(1.0, abs=1e-12)
    P1, _ = rama.ramachandran_histogram(phi, psi)
    assert rama.reversal_symmetry(P1) < 0.5


# ----------------------------------------------------------------- histograms and F
def test_periodic_grid_and_wrap():
    e = rama.periodic_edges(10)
    assert len(e) == 37 and e[0] == -180 and e[-1] == 180
    np.testing.assert_allclose(e, -e[::-1])
    with pytest.raises(ValueError):
        rama.periodic_edges(7)
    np.testing.assert_allclose(rama.wrap_degrees([180, -180, 190, -190, 540]), [-180, -180, -170, 170, -180])
    P, _ = rama.ramachandran_histogram([180.0, -175.0, 5.0], [-180.0, 179.0, -5.0])
    assert P[0, 0] == pytest.approx(1 / 3) and P[0, 35] == pytest.approx(1 / 3)
    assert P[18, 17] == pytest.approx(1 / 3) and P.sum() == pytest.approx(1.0)
    Pw, _ = rama.ramachandran_histogram([180.0, -175.0, 5.0], [-180.0, 179.0, -5.0], weights=[2, 1, 1])
    assert Pw[0, 0] == pytest.approx(0.5) and Pw[18, 17] == pytest.approx(0.25)


def _von_mises_bin_probs(mu, kappa, edges, sub=400):
    """Exact bin probabilities of a von Mises density (midpoint rule, error ~1e-10)."""
    w = edges[1] - edges[0]
    mids = edges[:-1, None] + (np.arange(sub) + 0.5)[None] * w / sub
    dens = np.exp(kappa * np.cos(np.radians(mids) - mu)).sum(axis=1)
    return dens / dens.sum()


def test_free_energy_of_a_known_density():
    rng = np.random.default_rng(7)
    n, T = 400_000, 300.0
    (m1, k1), (m2, k2) = (-1.2, 1.5), (2.3, 0.8)
    phi = np.degrees(rng.vonmises(m1, k1, n))
    psi = np.degrees(rng.vonmises(m2, k2, n))
    P, e = rama.ramachandran_histogram(phi, psi, width_deg=20)
    F = rama.free_energy(P, T)
    p = np.outer(_von_mises_bin_probs(m1, k1, e), _von_mises_bin_probs(m2, k2, e))
    counts = P * n
    ref = np.unravel_index(np.argmax(counts), counts.shape)
    ok = counts >= 100
    dF = F[ok] - F[ref]
    expect = -kT(T) * np.log(p[ok] / p[ref])
    sigma = kT(T) * np.sqrt(1 / counts[ok] + 1 / counts[ref])
    z = (dF - expect) / sigma
    assert np.abs(z).max() < 5
    assert 0.6 < np.mean(z ** 2) < 1.5
    assert np.nanmin(F) == 0.0
    np.testing.assert_allclose(rama.free_energy(P, T, "kcal/mol"), F * KJ_TO_KCAL, equal_nan=True)
    # empty bins are NaN
    P2, _ = rama.ramachandran_histogram([-60.0], [-45.0])
    F2 = rama.free_energy(P2, T)
    assert np.isnan(F2).sum() == F2.size - 1 and np.nanmax(F2) == 0.0
    with pytest.raises(ValueError):
        rama.free_energy(P, T, "eV")


def test_jensen_shannon_and_overlap():
    rng = np.random.default_rng(3)
    P = rng.random((36, 36))
    assert rama.jensen_shannon(P, P) == pytest.approx(0.0, abs=1e-12)
    assert rama.jensen_shannon(P, 5 * P) == pytest.approx(0.0, abs=1e-12)   # normalised inside
    A = np.zeros((4, 4))
    B = np.zeros((4, 4))
    A[:2] = 1.0
    B[2:] = 1.0
    assert rama.jensen_shannon(A, B) == pytest.approx(math.log(2))
    assert rama.overlap(A, B) == 0.0 and rama.overlap(A, A) == pytest.approx(1.0)
    # half-overlapping maps: hand value
    C = np.zeros((4, 4))
    C[1:3] = 1.0
    # p = (1/2, 1/2, 0), q = (0, 1/2, 1/2) per row band, m = (1/4, 1/2, 1/4):
    # KL(p||m) = 1/2 ln 2 + 1/2 ln 1 = ln(2)/2, likewise KL(q||m), so JSD = ln(2)/2
    assert rama.jensen_shannon(A, C) == pytest.approx(math.log(2) / 2)
    assert rama.overlap(A, C) == pytest.approx(0.5)
    Q = rng.random((36, 36))
    assert rama.jensen_shannon(P, Q) == pytest.approx(rama.jensen_shannon(Q, P))


# ----------------------------------------------------------------- symmetry scores
def test_point_symmetry_score():
    rng = np.random.default_rng(5)
    phi = rng.uniform(-170, -10, 5000)      # L-like: phi < 0 only
    psi = rng.uniform(-180, 180, 5000)
    P, _ = rama.ramachandran_histogram(phi, psi)
    assert rama.point_symmetry(P) == 0.0
    Ps, _ = rama.ramachandran_histogram(np.r_[phi, -phi], np.r_[psi, -psi])
    assert rama.point_symmetry(Ps) == pytest.approx(1.0, abs=1e-12)
    # a Gaussian blob at the origin is point-symmetric up to sampling noise
    Pg, _ = rama.ramachandran_histogram(rng.normal(0, 30, 200_000), rng.normal(0, 30, 200_000))
    assert rama.point_symmetry(Pg) > 0.97


def test_basin_populations_hand_counted():
    pts = [(-70, -40, "alpha_R"), (-75, 145, "beta_PPII"), (-150, 155, "beta_PPII"),
           (-83, 73, "beta_PPII"), (-100, -170, "beta_PPII"), (-100, -121, "beta_PPII"),
           (-100, -120, "alpha_R"), (-60, 49.9, "alpha_R"), (-60, 50, "beta_PPII"),
           (60, 45, "alpha_L"), (70, -70, "alpha_L"), (0, 0, "alpha_L"), (180, 10, "alpha_R"),  # phi 180 wraps to -180
           (-0.001, 10, "alpha_R")]
    phi = np.array([p[0] for p in pts], float)
    psi = np.array([p[1] for p in pts], float)
    pops = rama.basin_populations(phi, psi)
    for name in rama.DEFAULT_BASINS:
        assert pops[name] == pytest.approx(sum(p[2] == name for p in pts) / len(pts))
    assert sum(pops.values()) == pytest.approx(1.0)     # the defaults tile the plane
    # overlapping custom basins: first match wins, the rest is unassigned
    custom = {"a": [(-90, 0, -90, 0)], "b": [(-180, 0, -180, 0)]}
    pc = rama.basin_populations(phi, psi, custom)
    assert pc == {"a": pytest.approx(1 / 14), "b": pytest.approx(3 / 14)}
    assert sum(pc.values()) <= 1.0


# ----------------------------------------------------------------- chirality
def _tetrahedral_s_centre():
    """N, CA, CB, C around an S (L) centre, built from the CIP rule by hand.

    Priorities N > C(O) > CB > H. H points along -z, away from a viewer on +z; the other
    three sit at z = +1/3 on a circle. Seen from +z, N -> C -> CB runs counter-clockwise
    (azimuths 90, 210, 330 deg): S. (Equivalently the CORN rule: seen from H, CO -> R -> N
    runs clockwise.)
    """
    s = math.sqrt(8.0 / 9.0)

    def sub(az):
        a = math.radians(az)
        return [s * math.cos(a), s * math.sin(a), 1.0 / 3.0]

    n, c, cb = sub(90), sub(210), sub(330)
    h = [0.0, 0.0, -1.0]
    assert np.linalg.det(np.array([n, c, cb])) > 0          # place_l_cb's L criterion
    assert np.dot(np.cross(np.subtract(c, n), np.subtract(cb, n)), [0, 0, 1]) > 0  # CCW from +z
    return np.array([n, [0.0, 0.0, 0.0], cb, c]) * 0.15, np.array(h)


def test_l_alanine_improper_sign():
    x, _ = _tetrahedral_s_centre()
    val = rama.chirality_impropers(x, ["ALA2-N", "ALA2-CA", "ALA2-CB", "ALA2-C"])[0]
    assert val[0] == pytest.approx(120.0, abs=0.1)
    assert np.sign(val[0]) == rama.L_IMPROPER_SIGN
    names, xb = _beads(build_peptide(["ACE", "ALA", "NME"], (-80, 150)), keep={"C", "N", "CA", "CB"})
    assert names == CORE_BETA
    imp, lab = rama.chirality_impropers(xb, names)
    assert lab == ["ALA2"] and imp[0] == pytest.approx(123.2, abs=0.5)


def test_d_form_fraction():
    frames = [_beads(build_peptide(["ACE", "ALA", "ALA", "NME"], [(a, b), (b, a)]),
                     keep={"C", "N", "CA", "CB"}) for a, b in [(-60, -45), (-139, 135), (75, -65), (60, 45)]]
    names = frames[0][0]
    x = np.array([f[1] for f in frames])
    imp, lab = rama.chirality_impropers(x, names)
    assert imp.shape == (4, 2) and lab == ["ALA2", "ALA3"]
    assert rama.d_form_fraction(imp) == 0.0
    np.testing.assert_array_equal(rama.d_form_fraction(imp, axis=0), [0.0, 0.0])
    mirror = x * np.array([1.0, -1.0, 1.0])
    assert rama.d_form_fraction(rama.chirality_impropers(mirror, names)[0]) == 1.0
    both = rama.chirality_impropers(np.r_[x, mirror[:1]], names)[0]
    assert rama.d_form_fraction(both) == pytest.approx(0.2)


# ----------------------------------------------------------------- helices
def _analytic_helix(n, r, theta_deg, h):
    k = np.arange(n)
    t = np.radians(theta_deg) * k
    return np.stack([r * np.cos(t), r * np.sin(t), h * k], axis=1)


def test_helix_order_parameters_closed_form():
    r, th, h = 0.23, 100.0, 0.15       # alpha helix: radius, twist per residue, rise (nm)
    x = _analytic_helix(15, r, th, h)
    a = 2 * r * math.sin(math.radians(th) / 2)
    chi = 2 * h * a * a * math.sin(math.radians(th)) * (1 - math.cos(math.radians(th)))
    assert hx.handedness(x) == pytest.approx(chi, rel=1e-12)
    d3 = math.hypot(2 * r * math.sin(3 * math.radians(th) / 2), 3 * h)
    assert hx.helicity(x) == pytest.approx(math.exp(-(d3 - 0.5) ** 2 / (2 * 0.02)), rel=1e-12)
    # clockwise twist = left-handed
    assert hx.handedness(_analytic_helix(15, r, -th, h)) == pytest.approx(-chi, rel=1e-12)
    # periodic box: wrapped positions give the same numbers with the box
    box = np.array([1.0, 1.0, 1.0])
    xw = np.mod(x + 0.3, box)
    assert hx.handedness(xw, box) == pytest.approx(chi, rel=1e-9)
    assert hx.helicity(xw, box) == pytest.approx(hx.helicity(x), rel=1e-9)


def test_built_helices():
    def ca(pp):
        atoms = build_peptide(["ACE"] + ["ALA"] * 15 + ["NME"], pp)
        names, x = _beads(atoms)
        return x[hx.ca_indices(names)]

    alpha = ca((-57, -47))
    assert alpha.shape == (15, 3)
    d3 = np.linalg.norm(alpha[3:] - alpha[:-3], axis=1)
    assert np.all((d3 > 0.50) & (d3 < 0.53))
    # Q >= exp(-(0.53 - 0.5)^2 / 0.04) for every pair three apart
    q = hx.helicity(alpha)
    assert math.exp(-0.03 ** 2 / 0.04) < q <= 1.0
    chi = hx.handedness(alpha)
    assert 0.03 < chi < 0.06
    mirror = alpha * np.array([-1.0, 1.0, 1.0])
    assert hx.handedness(mirror) == pytest.approx(-chi, rel=1e-12)
    assert hx.helicity(mirror) == pytest.approx(q, rel=1e-12)
    ext = ca((-139, 135))
    assert hx.helicity(ext) < math.exp(-0.4 ** 2 / 0.04)     # d(i, i+3) > 0.9 nm
    # per frame, and the helical fractions
    frames = np.array([alpha, mirror, ext, alpha])
    Q, C = hx.helicity(frames), hx.handedness(frames)
    assert Q.shape == C.shape == (4,)
    assert hx.helical_fractions(C, Q) == (0.5, 0.25)


def test_helix_free_energy_grid_and_mirror_symmetry():
    rng = np.random.default_rng(11)
    chi = rng.normal(0.03, 0.01, 50_000)
    q = rng.uniform(0, 1, 50_000)
    P, ce, qe = hx.helix_histogram(chi, q)
    assert P.shape == (200, 200) and P.sum() == pytest.approx(1.0)
    assert ce[0] == -0.06 and ce[-1] == 0.06 and qe[0] == 0 and qe[-1] == 1
    np.testing.assert_allclose(ce, -ce[::-1], atol=1e-15)
    F, _, _ = hx.helix_free_energy(chi, q)
    np.testing.assert_allclose(F, rama.free_energy(P, 300.0, "kcal/mol"), equal_nan=True)
    assert hx.mirror_symmetry(P, ce) < 0.05
    Ps, _, _ = hx.helix_histogram(np.r_[chi, -chi], np.r_[q, q])
    assert hx.mirror_symmetry(Ps, ce) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError):
        hx.mirror_symmetry(P, np.linspace(0, 1, 201))


def test_radius_of_gyration():
    x = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    assert hx.radius_of_gyration(x) == pytest.approx(0.5)
    assert hx.radius_of_gyration(x, masses=[1.0, 3.0]) == pytest.approx(math.sqrt(3) / 4)
    square = np.array([[1, 1, 0], [1, -1, 0], [-1, 1, 0], [-1, -1, 0]], float)
    np.testing.assert_allclose(hx.radius_of_gyration(np.array([square, 2 * square])),
                               [math.sqrt(2), 2 * math.sqrt(2)])
