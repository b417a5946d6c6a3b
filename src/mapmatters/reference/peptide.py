"""Heavy-atom start structures of capped peptides from a sequence and backbone angles.

An internal-coordinate (NeRF: natural extension reference frame) builder: each atom is
placed from three atoms already placed, a bond length, a bond angle and a torsion. Only
heavy atoms are written; ``gmx pdb2gmx -ignh`` adds the hydrogens from the force field's
``.hdb``.

Units: lengths in **Angstrom** (the PDB unit), angles in **degrees**.

Geometry: ideal values after Engh & Huber, Acta Cryst. A47, 392-400 (1991), rounded to
the precision below. The caps reuse the backbone values of the chemically analogous bond
(ACE CH3-C as CA-C, NME N-CH3 as N-CA). The proline ring torsions are chosen so that the
ring closes (CD-N about 1.47 A). Minimisation under the force field relaxes all of these,
so they only need to be chemically sensible.

Conventions: omega = 180 (trans peptides). phi(i) = C(i-1)-N-CA-C, psi(i) = N-CA-C-N(i+1);
the ACE cap supplies C(i-1) of the first residue and the NME cap N(i+1) of the last, so
every non-cap residue has both angles. Atom and residue names are those of
``amber99sb-ildn.ff/aminoacids.rtp`` (ACE: CH3 C O; NME: N CH3).

Side chains are data (:data:`SIDE_CHAINS`): adding a residue is adding a table entry.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import InputError

# --- backbone geometry (Engh & Huber 1991), Angstrom / degrees ------------------------
BOND = {
    "N-CA": 1.458,
    "CA-C": 1.525,
    "C-N": 1.329,   # peptide bond
    "C-O": 1.231,
    "CA-CB": 1.530,
}
ANGLE = {
    "N-CA-C": 111.2,
    "CA-C-N": 116.2,
    "C-N-CA": 121.7,
    "CA-C-O": 120.8,
    "N-CA-CB": 110.5,
    "C-CA-CB": 110.1,
}
OMEGA = 180.0


@dataclass(frozen=True)
class ICEntry:
    """Atom ``name`` bonded to ``refs[2]``: bond refs[2]-name, angle refs[1]-refs[2]-name,
    torsion refs[0]-refs[1]-refs[2]-name. The torsion is a number (degrees) or a pair
    (key of the residue's ``chi`` dict, offset), e.g. ``("chi1", -120.0)``."""

    name: str
    refs: tuple[str, str, str]
    bond: float
    angle: float
    torsion: float | tuple[str, float]


@dataclass(frozen=True)
class SideChain:
    """Heavy side-chain atoms of a residue. ``cb`` holds (bond CA-CB, angle N-CA-CB,
    angle C-CA-CB) or None (glycine); CB is placed on the L side of CA. ``atoms`` follow
    in build order; ``chi`` gives the default side-chain torsions."""

    cb: tuple[float, float, float] | None
    atoms: tuple[ICEntry, ...] = ()
    chi: dict | None = None


SIDE_CHAINS: dict[str, SideChain] = {
    "GLY": SideChain(cb=None),
    "ALA": SideChain(cb=(BOND["CA-CB"], ANGLE["N-CA-CB"], ANGLE["C-CA-CB"])),
    # Thr: OG1 defines chi1 (g+ rotamer by default); CG2 sits at chi1 - 120 (L-Thr is 2S,3R).
    "THR": SideChain(cb=(BOND["CA-CB"], ANGLE["N-CA-CB"], ANGLE["C-CA-CB"]),
                     atoms=(ICEntry("OG1", ("N", "CA", "CB"), 1.433, 109.6, ("chi1", 0.0)),
                            ICEntry("CG2", ("N", "CA", "CB"), 1.521, 110.5, ("chi1", -120.0))),
                     chi={"chi1": 60.0}),
    # Pro: Cgamma-endo pucker; N-CA-CB is narrow in the five-membered ring.
    "PRO": SideChain(cb=(BOND["CA-CB"], 103.0, ANGLE["C-CA-CB"]),
                     atoms=(ICEntry("CG", ("N", "CA", "CB"), 1.492, 104.5, ("chi1", 0.0)),
                            ICEntry("CD", ("CA", "CB", "CG"), 1.503, 105.5, ("chi2", 0.0))),
                     chi={"chi1": 29.0, "chi2": -34.0}),
}
CAPS = {"ACE": ("CH3", "C", "O"), "NME": ("N", "CH3")}


def supported_residues() -> list[str]:
    return sorted(SIDE_CHAINS)


@dataclass
class Atom:
    resname: str
    resid: int
    name: str
    xyz: np.ndarray   # Angstrom


# --- NeRF -------------------------------------------------------------------------------
def place(a: np.ndarray, b: np.ndarray, c: np.ndarray, bond: float, angle_deg: float,
          torsion_deg: float) -> np.ndarray:
    """Position of D bonded to C with |CD| = bond, angle B-C-D and torsion A-B-C-D."""
    theta, tau = np.radians(angle_deg), np.radians(torsion_deg)
    bc = c - b
    bc /= np.linalg.norm(bc)
    n = np.cross(b - a, bc)
    n /= np.linalg.norm(n)
    m = np.cross(n, bc)
    d_local = bond * np.array([-np.cos(theta), np.sin(theta) * np.cos(tau), np.sin(theta) * np.sin(tau)])
    return c + d_local[0] * bc + d_local[1] * m + d_local[2] * n


def place_l_cb(n: np.ndarray, ca: np.ndarray, c: np.ndarray, bond: float, angle_n: float,
               angle_c: float) -> np.ndarray:
    """CB with the given angles to N and C, on the side that makes CA an L (S) centre.

    CIP priorities at CA are N > C > CB > H; with H pointing away from the viewer,
    N -> C -> CB runs counter-clockwise for S, i.e. det[N-CA, C-CA, CB-CA] > 0. Writing the
    CB direction as a*u_N + b*u_C + g*(u_N x u_C), that determinant is g*|u_N x u_C|^2, so
    the L side is g > 0.
    """
    un = (n - ca) / np.linalg.norm(n - ca)
    uc = (c - ca) / np.linalg.norm(c - ca)
    w = np.cross(un, uc)
    cn, cc, d = np.cos(np.radians(angle_n)), np.cos(np.radians(angle_c)), float(un @ uc)
    a, b = np.linalg.solve([[1.0, d], [d, 1.0]], [cn, cc])
    inplane = a * un + b * uc
    g = np.sqrt(max(1.0 - float(inplane @ inplane), 0.0)) / np.linalg.norm(w)
    return ca + bond * (inplane + g * w)


def dihedral(p0, p1, p2, p3) -> float:
    """Torsion p0-p1-p2-p3 in degrees (IUPAC sign)."""
    b0, b1, b2 = p0 - p1, p2 - p1, p3 - p2
    b1 = b1 / np.linalg.norm(b1)
    v = b0 - (b0 @ b1) * b1
    w = b2 - (b2 @ b1) * b1
    return float(np.degrees(np.arctan2(np.cross(b1, v) @ w, v @ w)))


# --- builder ------------------------------------------------------------------------------
def _check_sequence(sequence: Sequence[str]) -> list[str]:
    seq = [str(r).upper() for r in sequence]
    if len(seq) < 3 or seq[0] != "ACE" or seq[-1] != "NME":
        raise InputError(f"peptide sequence {seq} must start with ACE, end with NME and have at "
                         "least one residue between.", key="peptide.sequence",
                         fix="cap the chain: ['ACE', ..., 'NME'].")
    for r in seq[1:-1]:
        if r not in SIDE_CHAINS:
            raise InputError(f"unknown residue '{r}' in peptide sequence; supported: "
                             f"{supported_residues()} between ACE and NME caps.",
                             key="peptide.sequence",
                             fix="add its side chain to SIDE_CHAINS in mapmatters.reference.peptide.")
    return seq


def _angles(n_res: int, phi_psi) -> list[tuple[float, float]]:
    arr = np.asarray(phi_psi, dtype=float)
    if arr.shape == (2,):
        arr = np.tile(arr, (n_res, 1))
    if arr.shape != (n_res, 2):
        raise InputError(f"need one (phi, psi) pair per non-cap residue ({n_res}) or a single pair; "
                         f"got shape {arr.shape}.", key="peptide.phi_psi")
    return [tuple(map(float, row)) for row in arr]


def build_peptide(sequence: Sequence[str], phi_psi, chi: dict | None = None) -> list[Atom]:
    """Heavy atoms (Angstrom) of ACE-X...-NME with the given backbone (phi, psi) in degrees.

    ``phi_psi``: one (phi, psi) pair for every residue, or a list with one pair per residue
    between the caps. ``chi``: optional {resid: {"chi1": ...}} overriding side-chain torsions
    (resid counts from 1 at ACE).
    """
    seq = _check_sequence(sequence)
    angles = _angles(len(seq) - 2, phi_psi)
    chi = chi or {}
    atoms: list[Atom] = []

    # ACE: CH3 at the origin, C on +x, then the chain grows in the xy plane first.
    ch3 = np.zeros(3)
    c_prev = np.array([BOND["CA-C"], 0.0, 0.0])
    ca_prev_like = ch3
    ace = {"CH3": ch3, "C": c_prev}
    # a dummy atom to define the first torsion (only fixes the overall orientation)
    dummy = np.array([-0.5, 1.0, 0.0])
    n_cur = place(dummy, ch3, c_prev, BOND["C-N"], ANGLE["CA-C-N"], 180.0)
    ace["O"] = place(n_cur, ch3, c_prev, BOND["C-O"], ANGLE["CA-C-O"], 180.0)
    atoms += [Atom("ACE", 1, nm, ace[nm]) for nm in CAPS["ACE"]]

    for i, res in enumerate(seq[1:-1]):
        resid = i + 2
        phi, psi = angles[i]
        ca = place(ca_prev_like, c_prev, n_cur, BOND["N-CA"], ANGLE["C-N-CA"], OMEGA)
        c = place(c_prev, n_cur, ca, BOND["CA-C"], ANGLE["N-CA-C"], phi)
        n_next = place(n_cur, ca, c, BOND["C-N"], ANGLE["CA-C-N"], psi)
        o = place(n_next, ca, c, BOND["C-O"], ANGLE["CA-C-O"], 180.0)
        pos = {"N": n_cur, "CA": ca, "C": c, "O": o}
        sc = SIDE_CHAINS[res]
        order = ["N", "CA"]
        if sc.cb is not None:
            pos["CB"] = place_l_cb(n_cur, ca, c, *sc.cb)
            order.append("CB")
            torsions = {**(sc.chi or {}), **chi.get(resid, {})}
            for e in sc.atoms:
                t = e.torsion
                if isinstance(t, tuple):
                    t = torsions[t[0]] + t[1]
                pos[e.name] = place(pos[e.refs[0]], pos[e.refs[1]], pos[e.refs[2]], e.bond, e.angle, t)
                order.append(e.name)
        order += ["C", "O"]
        atoms += [Atom(res, resid, nm, pos[nm]) for nm in order]
        c_prev, ca_prev_like, n_cur = c, ca, n_next

    ch3_nme = place(ca_prev_like, c_prev, n_cur, BOND["N-CA"], ANGLE["C-N-CA"], OMEGA)
    atoms += [Atom("NME", len(seq), "N", n_cur), Atom("NME", len(seq), "CH3", ch3_nme)]
    return atoms


def pdb_text(atoms: Sequence[Atom], title: str = "capped peptide built by mapmatters") -> str:
    """PDB text (Angstrom) with one chain A; element from the first letter of the name."""
    lines = [f"TITLE     {title}"]
    for k, a in enumerate(atoms, start=1):
        name = a.name if len(a.name) == 4 else f" {a.name:<3s}"
        x, y, z = a.xyz
        lines.append(f"ATOM  {k:5d} {name:4s} {a.resname:>3s} A{a.resid:4d}    "
                     f"{x:8.3f}{y:8.3f}{z:8.3f}{1.0:6.2f}{0.0:6.2f}          {a.name[0]:>2s}")
    lines += ["TER", "END"]
    return "\n".join(lines) + "\n"


def write_peptide_pdb(path: str | os.PathLike, sequence: Sequence[str], phi_psi,
                      chi: dict | None = None) -> list[Atom]:
    """Build the peptide and write it as a PDB file; returns the atoms."""
    atoms = build_peptide(sequence, phi_psi, chi)
    with open(path, "w") as fh:
        fh.write(pdb_text(atoms, title="-".join(str(r).upper() for r in sequence)))
    return atoms
