"""Capped-peptide start structures (our internal-coordinate builder) and the GROMACS steps
that turn them into solvated AMBER ff99SB-ILDN + TIP3P systems."""
import hashlib

import mdtraj as md
import numpy as np
import pytest
from conftest import require

from mapmatters.errors import InputError
from mapmatters.reference import gromacs, mdp, peptide

HELIX = (-57.0, -47.0)
EXTENDED = (-139.0, 135.0)
ALA15 = ["ACE"] + ["ALA"] * 15 + ["NME"]


def built(tmp_path, seq, phi_psi, name="p.pdb"):
    path = tmp_path / name
    peptide.write_peptide_pdb(path, seq, phi_psi)
    return path, md.load(str(path))


def ca(traj):
    return traj.xyz[0][traj.topology.select("name CA")]


# --- builder ----------------------------------------------------------------------------------
@pytest.mark.parametrize("seq", [["ACE", "ALA", "NME"], ALA15])
@pytest.mark.parametrize("phi_psi", [HELIX, EXTENDED, (180.0, 180.0), (-63.0, 150.0)])
def test_phi_psi_measured_back_by_mdtraj(tmp_path, seq, phi_psi):
    _, t = built(tmp_path, seq, phi_psi)
    n = len(seq) - 2
    _, phi = md.compute_phi(t)
    _, psi = md.compute_psi(t)
    assert phi.shape == psi.shape == (1, n)   # caps give every residue both angles

    def diff(a, b):
        return np.abs((np.degrees(a) - b + 180.0) % 360.0 - 180.0)
    assert diff(phi[0], phi_psi[0]).max() < 0.5
    assert diff(psi[0], phi_psi[1]).max() < 0.5


def test_per_residue_angles_and_omega(tmp_path):
    angles = [(-57, -47), (-139, 135), (-63, 150)]
    _, t = built(tmp_path, ["ACE", "ALA", "GLY", "THR", "NME"], angles)
    assert np.allclose(np.degrees(md.compute_phi(t)[1][0]), [a[0] for a in angles], atol=0.5)
    assert np.allclose(np.degrees(md.compute_psi(t)[1][0]), [a[1] for a in angles], atol=0.5)
    omega = np.degrees(md.compute_omega(t)[1][0])
    assert np.all(np.abs(np.abs(omega) - 180.0) < 0.5)


def test_heavy_atom_names_follow_amber_rtp(tmp_path):
    path, _ = built(tmp_path, ["ACE", "ALA", "GLY", "PRO", "THR", "NME"], HELIX)
    t = md.load(str(path), standard_names=False)   # mdtraj would rename NME CH3 to C
    names = {r.name + str(r.resSeq): [a.name for a in r.atoms] for r in t.topology.residues}
    assert names["ACE1"] == ["CH3", "C", "O"]
    assert names["ALA2"] == ["N", "CA", "CB", "C", "O"]
    assert names["GLY3"] == ["N", "CA", "C", "O"]
    assert sorted(names["PRO4"]) == sorted(["N", "CA", "CB", "CG", "CD", "C", "O"])
    assert sorted(names["THR5"]) == sorted(["N", "CA", "CB", "OG1", "CG2", "C", "O"])
    assert names["NME6"] == ["N", "CH3"]


def test_bond_lengths_and_angles_as_specified(tmp_path):
    atoms = peptide.build_peptide(["ACE", "ALA", "PRO", "NME"], HELIX)
    pos = {(a.resid, a.name): a.xyz for a in atoms}

    def d(a, b):
        return np.linalg.norm(pos[a] - pos[b])

    def ang(a, b, c):
        u, v = pos[a] - pos[b], pos[c] - pos[b]
        return np.degrees(np.arccos(u @ v / np.linalg.norm(u) / np.linalg.norm(v)))
    B, A = peptide.BOND, peptide.ANGLE
    for r in (2, 3):
        assert d((r, "N"), (r, "CA")) == pytest.approx(B["N-CA"], abs=1e-6)
        assert d((r, "CA"), (r, "C")) == pytest.approx(B["CA-C"], abs=1e-6)
        assert d((r, "C"), (r, "O")) == pytest.approx(B["C-O"], abs=1e-6)
        assert d((r, "CA"), (r, "CB")) == pytest.approx(B["CA-CB"], abs=1e-6)
        assert d((r - 1, "C"), (r, "N")) == pytest.approx(B["C-N"], abs=1e-6)
        assert ang((r, "N"), (r, "CA"), (r, "C")) == pytest.approx(A["N-CA-C"], abs=1e-6)
        assert ang((r - 1, "C"), (r, "N"), (r, "CA")) == pytest.approx(A["C-N-CA"], abs=1e-6)
        assert ang((r, "CA"), (r, "C"), (r, "O")) == pytest.approx(A["CA-C-O"], abs=1e-6)
    assert ang((2, "N"), (2, "CA"), (2, "CB")) == pytest.approx(A["N-CA-CB"], abs=1e-6)
    assert ang((2, "C"), (2, "CA"), (2, "CB")) == pytest.approx(A["C-CA-CB"], abs=1e-6)
    assert d((4, "N"), (4, "CH3")) == pytest.approx(B["N-CA"], abs=1e-6)
    # proline ring closes: CD-N like an N-C single bond
    assert 1.44 < d((3, "CD"), (3, "N")) < 1.50
    # and the same values come back from the written PDB (3 decimals in Angstrom)
    path, t = built(tmp_path, ["ACE", "ALA", "NME"], HELIX)
    sel = t.topology.select
    n, c_a = sel("resname ALA and name N")[0], sel("resname ALA and name CA")[0]
    assert md.compute_distances(t, [[n, c_a]])[0, 0] == pytest.approx(B["N-CA"] / 10, abs=2e-4)


def test_l_chirality(tmp_path):
    """L (S) at CA: CIP priorities N > C > CB; with H away from the viewer N -> C -> CB runs
    counter-clockwise, i.e. det[N-CA, C-CA, CB-CA] > 0 (equivalently the CORN rule). The
    improper N-CA-CB-C is then about +123 deg. L-Thr is (2S,3R): det[OG1, CA, CG2] < 0 at CB."""
    atoms = peptide.build_peptide(["ACE", "ALA", "PRO", "THR", "NME"], EXTENDED)
    pos = {(a.resid, a.name): a.xyz for a in atoms}
    for r in (2, 3, 4):
        rel = [pos[(r, x)] - pos[(r, "CA")] for x in ("N", "C", "CB")]
        assert np.linalg.det(rel) > 0
    cb = pos[(4, "CB")]
    assert np.linalg.det([pos[(4, x)] - cb for x in ("OG1", "CA", "CG2")]) < 0
    # the improper as mdtraj measures it on the written file
    _, t = built(tmp_path, ["ACE", "ALA", "NME"], HELIX)
    idx = [t.topology.select(f"resname ALA and name {x}")[0] for x in ("N", "CA", "CB", "C")]
    improper = np.degrees(md.compute_dihedrals(t, [idx])[0, 0])
    assert 110 < improper < 135


def test_alpha_helix_geometry(tmp_path):
    _, t = built(tmp_path, ALA15, HELIX)
    x = ca(t)
    d3 = np.linalg.norm(x[3:] - x[:-3], axis=1)
    assert np.all((d3 > 0.50) & (d3 < 0.53))
    # rise per residue along the helix axis; for a regular helix the axis is parallel to
    # b_i x b_(i+1), with b_i = (CA_(i-1) - CA_i) + (CA_(i+1) - CA_i) pointing at the axis
    b = (x[:-2] - x[1:-1]) + (x[2:] - x[1:-1])
    axis = np.cross(b[:-1], b[1:])
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    rise = np.abs(np.einsum("ij,ij->i", x[2:-1] - x[1:-2], axis))
    assert np.all((rise > 0.145) & (rise < 0.16)), rise   # 0.156 nm with these angles
    # right-handed: CA virtual torsions about +50 deg
    ca_idx = t.topology.select("name CA")
    tors = md.compute_dihedrals(t, [ca_idx[k:k + 4] for k in range(len(ca_idx) - 3)])
    assert np.all((np.degrees(tors) > 40) & (np.degrees(tors) < 60))


@pytest.mark.parametrize("phi_psi", [EXTENDED, (180.0, 180.0)])
def test_extended_chain(tmp_path, phi_psi):
    _, t = built(tmp_path, ALA15, phi_psi)
    x = ca(t)
    assert np.all(np.linalg.norm(x[3:] - x[:-3], axis=1) > 0.9)


def test_unknown_residue_and_bad_input():
    with pytest.raises(InputError, match=r"unknown residue 'LYS'.*ALA.*GLY.*PRO.*THR"):
        peptide.build_peptide(["ACE", "LYS", "NME"], HELIX)
    with pytest.raises(InputError, match="ACE"):
        peptide.build_peptide(["ALA", "ALA"], HELIX)
    with pytest.raises(InputError, match="one \\(phi, psi\\) pair"):
        peptide.build_peptide(["ACE", "ALA", "ALA", "NME"], [HELIX] * 3)


# --- .mdp -------------------------------------------------------------------------------------
def parse(text):
    return {k.strip(): v.strip() for k, v in (line.split("=", 1) for line in text.splitlines())}


def test_hexane_mdp_text_unchanged():
    """sha256 of the hexane .mdp texts as written before the peptide options existed."""
    texts = [mdp.minimisation_mdp(1.2, 5000),
             mdp.nvt_mdp(cutoff_nm=1.2, dt_ps=0.001, nsteps=100000000, temperature_K=300, tau_t_ps=1.0,
                         output_every_steps=200, seed=3, generate_velocities=False),
             mdp.nvt_mdp(cutoff_nm=1.2, dt_ps=0.001, nsteps=1000, temperature_K=300, tau_t_ps=1.0,
                         output_every_steps=75, seed=3, generate_velocities=True, write_forces=False)]
    assert [hashlib.sha256(t.encode()).hexdigest() for t in texts] == [
        "8753f3a1c30fabdb85b45863a9f84d89003a4525f6aa62ec2f2981ea0f15e726",
        "1c89b5e87d04800f75870ffc304d76a8955d628a18e69d9edb9cad23127ddbda",
        "178b91de1f6393ff48257acdc7b0b1863846e95ec157eee70f9321d41c469d25"]


def test_peptide_mdp_options():
    prod = parse(mdp.nvt_mdp(cutoff_nm=1.0, dt_ps=0.001, nsteps=1000, temperature_K=300, tau_t_ps=0.1,
                             output_every_steps=100, seed=1, generate_velocities=False,
                             tc_grps="Protein Non-Protein"))
    assert prod["tc-grps"] == "Protein Non-Protein" and prod["tau-t"] == "0.1 0.1"
    assert prod["ref-t"] == "300 300" and prod["nstxout"] == prod["nstfout"] == "100"
    assert prod["rcoulomb"] == prod["rvdw"] == "1.0" and prod["constraints"] == "none"
    assert prod["DispCorr"] == "EnerPres" and prod["coulombtype"] == "PME" and prod["pcoupl"] == "no"
    npt = parse(mdp.npt_mdp(cutoff_nm=1.0, dt_ps=0.001, nsteps=1000, temperature_K=300, tau_t_ps=0.1,
                            output_every_steps=100, seed=1, generate_velocities=True,
                            tc_grps="Protein Non-Protein"))
    assert npt["pcoupl"] == "C-rescale" and npt["pcoupltype"] == "isotropic"
    assert float(npt["compressibility"]) == 4.5e-5 and float(npt["ref-p"]) == 1.0
    assert npt["nstfout"] == "0" and npt["gen-vel"] == "yes" and npt["constraints"] == "none"


# --- pure topology readers --------------------------------------------------------------------
TOP = """#include "amber99sb-ildn.ff/forcefield.itp"
[ moleculetype ]
Protein_chain_A 3
[ atoms ]
1 N 1 LYS N 1 -0.3 14.0 ; qtot -0.3
2 H 1 LYS H 1 1.3 1.0  ; qtot 1
[ bonds ]
1 2
#include "amber99sb-ildn.ff/tip3p.itp"
[ system ]
x
[ molecules ]
Protein_chain_A 2
SOL 100
CL 1
"""


def test_net_charge_from_topology_and_grompp_note():
    assert gromacs.topology_net_charge(TOP) == pytest.approx(1.0)   # 2 x (+1) - 1 Cl
    assert gromacs.topology_molecules(TOP) == [("Protein_chain_A", 2), ("SOL", 100), ("CL", 1)]
    note = "NOTE 1 [file topol.top, line 50]:\n  System has non-zero total charge: -2.000000\n"
    assert gromacs.grompp_net_charge(note) == -2.0
    assert gromacs.grompp_net_charge("nothing to see") == 0.0


def test_parse_dump_constraints():
    text = """   moltype (0):
      name="Protein_chain_A"
      Constraint:
         nr: 0
      Constr. No Conn.:
         nr: 0
      Settle:
         nr: 0
   moltype (1):
      name="SOL"
      Constraint:
         nr: 6
      Constr. No Conn.:
         nr: 0
      Settle:
         nr: 4
"""
    assert gromacs.parse_dump_constraints(text) == {
        "Protein_chain_A": {"Constraint": 0, "Constr. No Conn.": 0, "Settle": 0},
        "SOL": {"Constraint": 2, "Constr. No Conn.": 0, "Settle": 1}}


# --- GROMACS ----------------------------------------------------------------------------------
STUDY_NAMES = [("ACE", ["CH3", "HH31", "HH32", "HH33", "C", "O"]),
               ("ALA", ["N", "H", "CA", "HA", "CB", "HB1", "HB2", "HB3", "C", "O"]),
               ("NME", ["N", "H", "CH3", "HH31", "HH32", "HH33"])]


def topology_for(tmp, seq, phi_psi, log):
    pdb = tmp / "in.pdb"
    peptide.write_peptide_pdb(pdb, seq, phi_psi)
    gromacs.pdb2gmx(str(pdb), "amber99sb-ildn", "tip3p", str(tmp / "pep.gro"), str(tmp / "topol.top"),
                    workdir=str(tmp), log=log)
    return tmp / "pep.gro", tmp / "topol.top"


@pytest.fixture(scope="module")
def dipeptide(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ala2")
    log = str(tmp / "gmx.log")
    gro, top = topology_for(tmp, ["ACE", "ALA", "NME"], HELIX, log)
    box = gromacs.editconf_box(str(gro), str(tmp / "box.gro"), 1.2, "cubic", log=log)
    n_water = gromacs.solvate(str(tmp / "box.gro"), str(top), str(tmp / "solv.gro"), "tip3p", log=log)
    (tmp / "em.mdp").write_text(mdp.minimisation_mdp(1.0, 50))
    gromacs.grompp(str(tmp / "em.mdp"), str(tmp / "solv.gro"), str(top), str(tmp / "em.tpr"), log=log)
    return {"tmp": tmp, "log": log, "gro": gro, "top": top, "box": box, "n_water": n_water}


@require("gmx")
def test_pdb2gmx_dipeptide_names_as_in_study(dipeptide):
    top = dipeptide["top"]
    assert gromacs.peptide_moleculetype(top) == "Protein_chain_A"
    res = gromacs.topology_residues(top)
    assert [(name, atoms) for _, name, atoms in res] == STUDY_NAMES
    assert sum(len(a) for _, _, a in res) == 22 == gromacs.gro_atom_count(dipeptide["gro"])
    assert "Identified residue ACE1 as a starting terminus" in open(dipeptide["log"]).read()


@require("gmx")
def test_solvated_dipeptide_box_and_constraints(dipeptide):
    box = dipeptide["box"]
    assert len(box) == 3 and np.allclose(box, box[0])
    # editconf -d 1.2 -bt cubic: edge = solute diameter (~0.7 nm for the helical dipeptide) + 2.4
    assert 3.0 < box[0] < 3.4
    top_text = dipeptide["top"].read_text()
    assert gromacs.topology_molecules(top_text) == [("Protein_chain_A", 1), ("SOL", dipeptide["n_water"])]
    assert gromacs.topology_net_charge(top_text) == pytest.approx(0.0, abs=1e-6)
    n = gromacs.gro_atom_count(dipeptide["tmp"] / "solv.gro")
    assert n == 22 + 3 * dipeptide["n_water"]
    constrained = gromacs.check_solute_unconstrained(str(dipeptide["tmp"] / "em.tpr"), "Protein_chain_A",
                                                     log=dipeptide["log"])
    assert constrained == {"SOL": {"Settle": 1}}


@require("gmx")
def test_genion_is_a_copy_for_a_neutral_system(dipeptide):
    tmp = dipeptide["tmp"]
    n = gromacs.genion_neutral(str(tmp / "solv.gro"), str(dipeptide["top"]), str(tmp / "ions.gro"),
                               mdp=str(tmp / "em.mdp"), workdir=str(tmp), log=dipeptide["log"], seed=1)
    assert n == 0 and (tmp / "ions.gro").read_bytes() == (tmp / "solv.gro").read_bytes()


@require("gmx")
def test_genion_neutralises_with_k(dipeptide, tmp_path):
    """No supported residue is charged, so make one: the ALA amide H at -0.7281 gives -1 e."""
    import re
    import shutil
    for name in ("solv.gro", "em.mdp", "posre.itp"):
        shutil.copy(dipeptide["tmp"] / name, tmp_path / name)
    text, n_sub = re.subn(r"(\s+8\s+H\s+2\s+ALA\s+H\s+8\s+)0\.2719", r"\g<1>-0.7281",
                          dipeptide["top"].read_text())
    assert n_sub == 1
    top = tmp_path / "topol.top"
    top.write_text(text)
    assert gromacs.topology_net_charge(text) == pytest.approx(-1.0)
    log = str(tmp_path / "gmx.log")
    n = gromacs.genion_neutral(str(tmp_path / "solv.gro"), str(top), str(tmp_path / "ions.gro"),
                               mdp=str(tmp_path / "em.mdp"), workdir=str(tmp_path), log=log, seed=1)
    assert n == 1
    mols = gromacs.topology_molecules(top.read_text())
    assert mols == [("Protein_chain_A", 1), ("SOL", dipeptide["n_water"] - 1), ("K", 1)]
    assert gromacs.topology_net_charge(top.read_text()) == pytest.approx(0.0, abs=1e-6)
    gromacs.grompp(str(tmp_path / "em.mdp"), str(tmp_path / "ions.gro"), str(top),
                   str(tmp_path / "em.tpr"), log=log)   # no warning left


@require("gmx")
@pytest.mark.parametrize("res,extra", [("GLY", ["HA1", "HA2"]), ("PRO", ["CD", "HD1", "HD2", "CG"]),
                                       ("THR", ["OG1", "HG1", "CG2", "HG21"])])
def test_pdb2gmx_other_dipeptides(tmp_path, res, extra):
    phi_psi = (-63.0, 150.0) if res == "PRO" else EXTENDED
    gro, top = topology_for(tmp_path, ["ACE", res, "NME"], phi_psi, str(tmp_path / "gmx.log"))
    residues = gromacs.topology_residues(top)
    assert [r[1] for r in residues] == ["ACE", res, "NME"]
    assert set(extra) <= set(residues[1][2])
    assert gromacs.topology_net_charge(top.read_text()) == pytest.approx(0.0, abs=1e-6)


@require("gmx")
def test_ala15_helix_solvated(tmp_path):
    log = str(tmp_path / "gmx.log")
    gro, top = topology_for(tmp_path, ALA15, HELIX, log)
    assert gromacs.gro_atom_count(gro) == 6 + 15 * 10 + 6
    box = gromacs.editconf_box(str(gro), str(tmp_path / "box.gro"), 1.2, "cubic", log=log)
    n_water = gromacs.solvate(str(tmp_path / "box.gro"), str(top), str(tmp_path / "solv.gro"), log=log)
    n = gromacs.gro_atom_count(tmp_path / "solv.gro")
    assert n == 162 + 3 * n_water
    assert 8000 < n < 14000, (box, n)
