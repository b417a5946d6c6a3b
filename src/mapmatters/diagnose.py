"""Predict mapping artifacts from the mapped reference alone, before any model is trained.

Three checks per (system, mapping), each a small pure function:

1. **Bond-permutation risk** (:func:`bond_permutation_risk`). An equivariant model sees species
   and distances only. For each CG bond *type* (unordered pair of species, ``A-B``), compare
   the bonded distance distribution with the distribution of the distance from the same beads
   to the nearest bead of the partner's species that is *not a bond partner* (any molecule,
   intramolecular 1-3/1-4 beads included: the same definition as
   :mod:`mapmatters.analysis.permutation`). Statistics:

   - ``overlap``: overlap coefficient of the two distributions, sum over common bins of
     min(p_bonded, p_nonbonded) with each histogram normalised to 1 (0 = disjoint, 1 = equal);
   - ``closer_fraction``: fraction of (frame, entry) pairs, an entry being (bead i, partner
     species s) as in permutation.py, in which the nearest non-partner of species s is closer
     than the nearest bond partner of species s, i.e. the reference itself is "permuted".

2. **Chirality** (:func:`stereocentres`, :func:`chirality_verdicts`). Stereocentres of the
   atomistic molecule (four bonded neighbours, four pairwise different branches, compared by a
   canonical element tree of the bond graph), and per mapping whether the CG beads keep them:
   ``atomistic`` (centre bead and four distinct substituent beads), ``kept`` (centre bead and
   three, and the improper dihedral sub1-centre-sub2-sub3 has one sign in more than
   ``improper_sign_min`` of the reference frames), ``lost`` otherwise.

3. **Species symmetry** (:func:`species_symmetry`). Automorphisms of one molecule's CG bond
   graph coloured by species, against the same graph coloured by what the molecule can tell
   apart: with the atomistic molecule, each bead's atoms' classes under colour refinement of the
   atomistic bond graph (:func:`atom_classes`: ALA2 CA next to ACE and ALA16 CA next to NME differ,
   although both beads are one carbon); without it, the bead's *content* (the sorted elements of
   its atoms, e.g. ``C3H7``). Automorphisms with species colouring that the molecule's colouring
   does not allow are environments the model cannot tell apart although the molecule can.

Units: positions and boxes in nm (boxes as GROMACS row vectors), distances in nm, angles in
degrees. Periodic datasets use the minimum image; free-space datasets (attribute ``periodic``
False) have no box. Datasets are streamed in chunks of frames with a ``stride``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np

from .geometry import impropers, minimum_image


# --------------------------------------------------------------------------- thresholds
@dataclass(frozen=True)
class Thresholds:
    """Flag thresholds (config key ``diagnose``).

    ``overlap_max`` = 0.01 and ``closer_fraction_max`` = 0.001, reasoned on hexane. In
    four-site hexane the bonds are C-C bonds (0.14-0.17 nm) and the nearest non-partner of the
    partner's species is at least a 1-3 neighbour (> 0.23 nm): both statistics are exactly 0.
    In three-site hexane a bond joins two adjacent two-carbon centres (0.22-0.28 nm) while the
    nearest non-partner of the partner's species belongs to another molecule, held off by the
    hydrogens (> 0.34 nm): again exactly 0, with a 0.06 nm gap. In two-site hexane a bond joins
    two three-carbon halves (0.29-0.41 nm), the contact distance of halves of neighbouring
    molecules (from 0.36 nm): the distributions share mass and the reference itself has beads
    whose nearest A is another molecule's. Measured on the CI baseline
    (``/work/baseline/ci/hexane/cg``, 100 molecules, 101 frames, 0.002 nm bins): two-site
    overlap 0.057, closer fraction 0.011; two-site-Map2 (same geometry, A-B) 0.033 and 0.006;
    three- and four-site 0 and 0. The safe mappings give exact zeros (a gap between the
    distributions), so the thresholds only need to sit above sampling noise and clearly below
    two-site: 1 % shared mass, and 1 in 1000 (frame, entry) pairs already permuted in the
    reference (for 200 entries at 1 frame/ps, some 200 permuted entries per ns). The
    overlap changes by < 0.002 for bins of 0.001-0.005 nm; coarser bins inflate it.

    ``improper_sign_min`` = 0.99: a kept stereocentre's improper must have one sign in more
    than 99 % of the reference frames (N-CA-CB-C of a rigid centre fluctuates by ~10 degrees about +-120).
    """

    overlap_max: float = 0.01
    closer_fraction_max: float = 0.001
    improper_sign_min: float = 0.99
    stride: int = 1
    bin_nm: float = 0.002      # histogram bin of the overlap coefficient
    range_nm: float = 3.0      # histogram range [0, range_nm); larger distances land in the last bin

    @classmethod
    def from_config(cls, cfg: dict | None) -> "Thresholds":
        """From the ``diagnose`` config section (missing keys take the defaults)."""
        cfg = dict(cfg or {})
        known = {k: cfg[k] for k in cls.__dataclass_fields__ if k in cfg}
        return cls(**known)


# --------------------------------------------------------------------------- 1. bond permutation
def overlap_coefficient(counts_a, counts_b) -> float:
    """Overlap of two histograms on common bins: sum(min(a / sum a, b / sum b)), in [0, 1].

    0 when either histogram is empty."""
    a = np.asarray(counts_a, dtype=np.float64)
    b = np.asarray(counts_b, dtype=np.float64)
    if a.sum() <= 0 or b.sum() <= 0:
        return 0.0
    return float(np.minimum(a / a.sum(), b / b.sum()).sum())


def bond_type_name(species_names: Sequence[str], si: int, sj: int) -> str:
    """``A-B`` label of the unordered species pair (sorted by species id)."""
    lo, hi = sorted((int(si), int(sj)))
    return f"{species_names[lo]}-{species_names[hi]}"


def partner_entries(species, bonds) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Entries (bead i, partner species s) as in :mod:`mapmatters.analysis.permutation`.

    Returns [(s, beads (E,) with a bond partner of species s, partner mask (E, N_s) over the
    beads of species s in index order)]."""
    species = np.asarray(species)
    bonds = np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
    ends = np.concatenate([bonds, bonds[:, ::-1]])
    out = []
    for s in (np.unique(species[ends[:, 1]]) if len(ends) else []):
        targets = np.flatnonzero(species == s)
        pos = {int(t): k for k, t in enumerate(targets)}
        sel = ends[species[ends[:, 1]] == s]
        beads = np.unique(sel[:, 0])
        row = {int(b): r for r, b in enumerate(beads)}
        mask = np.zeros((len(beads), len(targets)), bool)
        for i, j in sel:
            mask[row[int(i)], pos[int(j)]] = True
        out.append((int(s), beads, mask))
    return out


def entry_distances(positions, box, species, beads, partner_mask, s):
    """Nearest partner and nearest non-partner distances (nm) of entries (bead, species s).

    ``positions`` (F, N, 3) nm, ``box`` (F, 3, 3) or None. Returns two (F, E) arrays; inf
    where an entry has no such bead (e.g. no other bead of species s in free space)."""
    x = np.asarray(positions, dtype=np.float64)
    targets = np.flatnonzero(np.asarray(species) == s)
    d = x[:, None, targets, :] - x[:, beads, None, :]          # (F, E, N_s, 3)
    r = np.linalg.norm(minimum_image(d, box), axis=-1)
    self_mask = beads[:, None] == targets[None, :]
    partner = np.where(partner_mask[None], r, np.inf).min(axis=-1)
    other = np.where((partner_mask | self_mask)[None], np.inf, r)
    return partner, other.min(axis=-1)


def bond_permutation_risk(dataset, thresholds: Thresholds = Thresholds(), *, stride: int | None = None,
                          max_block_bytes: float = 2e8) -> list[dict]:
    """Bond-permutation statistics per CG bond type of a CG dataset (path or open CGDataset).

    One dict per bond type: bond_type, n_bonds, n_entries, frames, overlap, closer_fraction,
    bond_min/max_nm, nonbonded_min_nm, flag (overlap > overlap_max or closer_fraction >
    closer_fraction_max). See the module docstring for the definitions."""
    from .cgdata import CGDataset

    stride = thresholds.stride if stride is None else stride
    own = not isinstance(dataset, CGDataset)
    ds = CGDataset(dataset) if own else dataset
    try:
        top = ds.topology
        species = np.asarray(top.species)
        bonds = np.asarray(top.bonds, dtype=np.int64).reshape(-1, 2)
        names = list(top.species_names)
        edges = np.arange(0.0, thresholds.range_nm + thresholds.bin_nm / 2, thresholds.bin_nm)
        nbin = len(edges) - 1
        types: dict[str, dict] = {}

        def acc(key):
            return types.setdefault(key, {"bonded": np.zeros(nbin), "nonbonded": np.zeros(nbin), "n_bonds": 0,
                                          "n_entries": 0, "closer": 0, "entry_frames": 0, "bond_min": np.inf,
                                          "bond_max": -np.inf, "nonbonded_min": np.inf})

        def hist(v):
            v = v[np.isfinite(v)]
            return np.histogram(np.clip(v, 0, edges[-1] - 1e-9), bins=edges)[0]

        bond_key = np.array([bond_type_name(names, species[i], species[j]) for i, j in bonds], dtype=object)
        for key in dict.fromkeys(bond_key):
            acc(key)["n_bonds"] = int(np.sum(bond_key == key))
        entries = partner_entries(species, bonds)
        per_frame = max(1, sum(len(b) * int(np.sum(species == s)) for s, b, _ in entries) * 3 * 8 * 4)
        chunk = int(max(1, min(1000, max_block_bytes // per_frame)))
        frames = 0
        for block in ds.iter_chunks(chunk=chunk, stride=stride, fields=("positions", "box")):
            x = block["positions"].astype(np.float64)
            box = block["box"].astype(np.float64) if ds.periodic else None
            frames += len(x)
            if len(bonds):
                d = x[:, bonds[:, 1]] - x[:, bonds[:, 0]]
                r = np.linalg.norm(minimum_image(d, box), axis=-1)
                for key in dict.fromkeys(bond_key):
                    v = r[:, bond_key == key].ravel()
                    a = acc(key)
                    a["bonded"] += hist(v)
                    a["bond_min"] = min(a["bond_min"], float(v.min()))
                    a["bond_max"] = max(a["bond_max"], float(v.max()))
            for s, beads, mask in entries:
                partner, other = entry_distances(x, box, species, beads, mask, s)
                keys = np.array([bond_type_name(names, species[b], s) for b in beads], dtype=object)
                for key in dict.fromkeys(keys):
                    cols = keys == key
                    a = acc(key)
                    o = other[:, cols]
                    a["nonbonded"] += hist(o.ravel())
                    a["closer"] += int(np.sum(o < partner[:, cols]))
                    a["entry_frames"] += o.size
                    if np.isfinite(o).any():
                        a["nonbonded_min"] = min(a["nonbonded_min"], float(o[np.isfinite(o)].min()))
        for s, beads, _ in entries:
            for b in beads:
                acc(bond_type_name(names, species[b], s))["n_entries"] += 1
        out = []
        for key, a in types.items():
            ov = overlap_coefficient(a["bonded"], a["nonbonded"])
            cf = a["closer"] / a["entry_frames"] if a["entry_frames"] else 0.0
            out.append({"bond_type": key, "n_bonds": a["n_bonds"], "n_entries": a["n_entries"], "frames": frames,
                        "overlap": ov, "closer_fraction": cf,
                        "bond_min_nm": _finite(a["bond_min"]), "bond_max_nm": _finite(a["bond_max"]),
                        "nonbonded_min_nm": _finite(a["nonbonded_min"]),
                        "flag": bool(ov > thresholds.overlap_max or cf > thresholds.closer_fraction_max)})
        return out
    finally:
        if own:
            ds.close()


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


# --------------------------------------------------------------------------- atomistic molecule
@dataclass(frozen=True)
class Atomistic:
    """One atomistic molecule: atom names, elements, bonds (0-based indices within the molecule)
    and the 0-based residue of each atom within the molecule (None: single residue)."""

    names: tuple[str, ...]
    elements: tuple[str, ...]
    bonds: tuple[tuple[int, int], ...]
    residues: tuple[int, ...] | None = None
    resnames: tuple[str, ...] | None = None   # per atom, for labels

    @classmethod
    def from_lists(cls, names, bonds, elements=None, residues=None, resnames=None) -> "Atomistic":
        """Elements default to the first letter of each atom name (digits skipped)."""
        names = tuple(str(n) for n in names)
        if elements is None or any(not str(e).strip() for e in elements):
            elements = tuple(element_of(n) for n in names)
        return cls(names=names, elements=tuple(str(e).capitalize() for e in elements),
                   bonds=tuple((int(i), int(j)) for i, j in bonds),
                   residues=None if residues is None else tuple(int(r) for r in residues),
                   resnames=None if resnames is None else tuple(str(r) for r in resnames))

    def neighbours(self) -> list[list[int]]:
        adj: list[list[int]] = [[] for _ in self.names]
        for i, j in self.bonds:
            adj[i].append(j)
            adj[j].append(i)
        return [sorted(a) for a in adj]

    def index(self, name: str, residue: int | None = None) -> int:
        """Atom index by name (and residue, for beads made from residue templates)."""
        for k, n in enumerate(self.names):
            if n == name and (residue is None or self.residues is None or self.residues[k] == residue):
                return k
        raise KeyError(f"atom {name} (residue {residue}) is not in the molecule")

    def label(self, k: int) -> str:
        """``ALA2 CA`` (templates) or ``C3`` (single residue)."""
        if self.residues is None:
            return self.names[k]
        res = self.resnames[k] if self.resnames else "RES"
        return f"{res}{self.residues[k] + 1} {self.names[k]}"


def element_of(name: str) -> str:
    """Element of an atom name: its first letter (leading digits skipped), e.g. 1HB -> H."""
    letters = [c for c in str(name) if c.isalpha()]
    return letters[0].upper() if letters else "X"


def atomistic_from_tpr(tpr: str, molecule_type: str) -> Atomistic:
    """The first molecule of type ``molecule_type`` in a GROMACS run input, read by MDAnalysis."""
    import warnings

    import MDAnalysis as mda

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = mda.Universe(str(tpr))
    atoms = u.atoms
    sel = np.flatnonzero(np.asarray(atoms.moltypes) == molecule_type)
    if not len(sel):
        raise KeyError(f"molecule type {molecule_type} is not in {tpr}")
    first = atoms.molnums[sel[0]]
    sel = sel[np.asarray(atoms.molnums[sel]) == first]
    local = {int(g): k for k, g in enumerate(sel)}
    bonds = [(local[int(i)], local[int(j)]) for i, j in u.bonds.indices if int(i) in local and int(j) in local]
    mol = atoms[sel]
    try:
        elements = list(mol.elements)
    except (AttributeError, mda.exceptions.NoDataError):
        elements = None
    resid = np.asarray(mol.resindices)
    return Atomistic.from_lists(mol.names, bonds, elements, residues=resid - resid.min(),
                                resnames=list(mol.resnames))


def bead_atom_indices(spec, atomistic: Atomistic) -> list[list[int]]:
    """Atom indices of each bead of a MappingSpec (by name, or by (residue, name))."""
    return [[atomistic.index(a, b.residue) for a in b.atoms] for b in spec.beads]


# --------------------------------------------------------------------------- 2. chirality
def branch_signature(adj: Sequence[Sequence[int]], elements: Sequence[str], root: int, parent: int,
                     depth: int) -> str:
    """Canonical element tree of the branch at ``root`` seen from ``parent``, ``depth`` bonds deep.

    E.g. a methyl carbon seen from its carbon is ``C(H,H,H)``. Atoms already on the path are
    not revisited (rings end where they close)."""
    def walk(k, path, d):
        kids = [n for n in adj[k] if n not in path]
        if d == 0 or not kids:
            return elements[k]
        return elements[k] + "(" + ",".join(sorted(walk(n, path | {n}, d - 1) for n in kids)) + ")"
    return walk(root, {parent, root}, depth)


def stereocentres(atomistic: Atomistic, depth: int = 8) -> list[int]:
    """Atoms with four bonded neighbours whose four branches differ pairwise (canonical element
    trees :func:`branch_signature` out to ``depth`` bonds)."""
    adj = atomistic.neighbours()
    out = []
    for k, nb in enumerate(adj):
        if len(nb) != 4:
            continue
        sigs = [branch_signature(adj, atomistic.elements, n, k, depth) for n in nb]
        if len(set(sigs)) == 4:
            out.append(k)
    return out


def _branch_atoms(adj, centre: int, root: int) -> list[tuple[int, int]]:
    """(bond distance from the centre, atom) of the branch at ``root``, breadth first."""
    seen, frontier, out, d = {centre, root}, [root], [(1, root)], 1
    while frontier:
        d += 1
        nxt = []
        for k in frontier:
            for n in adj[k]:
                if n not in seen:
                    seen.add(n)
                    nxt.append(n)
                    out.append((d, n))
        frontier = nxt
    return out


def chirality_candidates(atomistic: Atomistic, spec, depth: int = 8) -> list[dict]:
    """Structural part of the chirality check (no coordinates): per stereocentre, the centre
    bead and the representative bead of each substituent (the bead, other than the centre's,
    holding the substituent atom nearest to the centre in bonds), and the improper quadruple."""
    adj = atomistic.neighbours()
    owner = {}
    for ib, atoms in enumerate(bead_atom_indices(spec, atomistic)):
        for a in atoms:
            owner[a] = ib
    out = []
    for c in stereocentres(atomistic, depth):
        row = {"centre": atomistic.label(c), "centre_atom": c, "centre_bead": owner.get(c),
               "substituents": [], "improper": None}
        reps = {}
        for n in adj[c]:
            rep = next((owner[a] for _, a in _branch_atoms(adj, c, n)
                        if a in owner and owner[a] != row["centre_bead"]), None)
            row["substituents"].append({"atom": atomistic.label(n), "bead": rep})
            if rep is not None and rep not in reps.values():
                reps[n] = rep
        row["n_distinct"] = len(reps)
        if row["centre_bead"] is None:
            row["structure"] = "lost"
        else:
            row["structure"] = "atomistic" if len(reps) == 4 else "kept" if len(reps) == 3 else "lost"
        if row["structure"] != "lost":
            # three substituents, hydrogens last, then in atom order: N-CA-CB-C for an L-alanine CA
            three = sorted(sorted(reps, key=lambda n: (atomistic.elements[n] == "H", n))[:3])
            row["improper"] = (reps[three[0]], row["centre_bead"], reps[three[1]], reps[three[2]])
        out.append(row)
    return out


def improper_deg(positions, box, quads) -> np.ndarray:
    """IUPAC dihedral (degrees) of each ordered quadruple i-j-k-l; (F, K)."""
    return np.degrees(impropers(np.asarray(positions, dtype=np.float64), quads, box))


def improper_sign_fraction(dataset, local_quad: Sequence[int], beads_per_molecule: int,
                           stride: int = 1, chunk: int = 1000) -> tuple[float, int, float]:
    """(fraction of (frame, molecule) with the majority sign, majority sign +1/-1, mean |angle| deg)
    of a within-molecule bead quadruple, over every molecule of a CG dataset."""
    from .cgdata import CGDataset

    own = not isinstance(dataset, CGDataset)
    ds = CGDataset(dataset) if own else dataset
    try:
        n_mol = ds.n_beads // beads_per_molecule
        quads = np.asarray(local_quad)[None, :] + (np.arange(n_mol) * beads_per_molecule)[:, None]
        pos = neg = 0
        absum = 0.0
        for block in ds.iter_chunks(chunk=chunk, stride=stride, fields=("positions", "box")):
            box = block["box"].astype(np.float64) if ds.periodic else None
            phi = improper_deg(block["positions"], box, quads)
            pos += int(np.sum(phi > 0))
            neg += int(np.sum(phi < 0))
            absum += float(np.abs(phi).sum())
        n = pos + neg
        if n == 0:
            return 0.0, 0, 0.0
        return max(pos, neg) / n, (1 if pos >= neg else -1), absum / n
    finally:
        if own:
            ds.close()


def chirality_verdicts(atomistic: Atomistic, spec, dataset=None, thresholds: Thresholds = Thresholds(),
                       *, stride: int | None = None, depth: int = 8) -> list[dict]:
    """Per stereocentre: centre, verdict (atomistic / kept / lost), improper bead quadruple (names)
    and its majority-sign fraction over the reference (``dataset``; None skips the sign test,
    then a structurally kept centre stays "kept")."""
    stride = thresholds.stride if stride is None else stride
    names = spec.bead_names
    out = []
    for row in chirality_candidates(atomistic, spec, depth):
        res = {"centre": row["centre"], "verdict": row["structure"], "n_substituent_beads": row["n_distinct"],
               "substituents": [{"atom": s["atom"], "bead": None if s["bead"] is None else names[s["bead"]]}
                                for s in row["substituents"]],
               "improper": None, "sign_fraction": None, "sign": None, "mean_abs_improper_deg": None,
               "reason": ""}
        if row["centre_bead"] is None:
            res["reason"] = "the centre atom is in no bead"
        elif row["improper"] is None:
            res["reason"] = f"only {row['n_distinct']} substituent(s) keep a bead of their own"
        else:
            res["improper"] = [names[b] for b in row["improper"]]
            if dataset is not None:
                frac, sign, mean_abs = improper_sign_fraction(dataset, row["improper"], spec.n_beads, stride)
                res.update(sign_fraction=frac, sign=sign, mean_abs_improper_deg=mean_abs)
                if row["structure"] == "kept" and frac <= thresholds.improper_sign_min:
                    res["verdict"] = "lost"
                    res["reason"] = (f"the improper has the majority sign in only {frac:.3f} of the frames "
                                     f"(needs > {thresholds.improper_sign_min})")
        out.append(res)
    return out


# --------------------------------------------------------------------------- 3. species symmetry
def automorphisms(n: int, edges: Iterable[tuple[int, int]], colours: Sequence) -> list[tuple[int, ...]]:
    """All colour-preserving automorphisms of an undirected graph, as permutations p (i -> p[i])."""
    import networkx as nx
    from networkx.algorithms.isomorphism import GraphMatcher

    g = nx.Graph()
    g.add_nodes_from((i, {"c": colours[i]}) for i in range(n))
    g.add_edges_from(edges)
    gm = GraphMatcher(g, g, node_match=lambda a, b: a["c"] == b["c"])
    return sorted(tuple(m[i] for i in range(n)) for m in gm.isomorphisms_iter())


def atom_classes(atomistic: Atomistic) -> list[int]:
    """Class of each atom under colour refinement (1-dimensional Weisfeiler-Lehman) of the
    bond graph, starting from the elements, iterated until no class splits.

    Atoms in different classes can never be exchanged by a symmetry of the molecule, so a CG
    automorphism that maps a bead onto a bead with other classes is not one of the molecule's
    (the converse, equal classes implying a symmetry, holds for trees such as these molecules)."""
    adj = atomistic.neighbours()
    colour = list(atomistic.elements)
    n_classes = len(set(colour))
    while True:
        sig = [(colour[i], tuple(sorted(colour[j] for j in adj[i]))) for i in range(len(colour))]
        index = {v: k for k, v in enumerate(sorted(set(sig), key=repr))}
        new = [index[v] for v in sig]
        if len(index) == n_classes:
            return new
        colour, n_classes = new, len(index)


def bead_environments(spec, atomistic: Atomistic) -> list[tuple[int, ...]]:
    """Per bead the sorted :func:`atom_classes` of its atoms."""
    cls = atom_classes(atomistic)
    return [tuple(sorted(cls[a] for a in atoms)) for atoms in bead_atom_indices(spec, atomistic)]


def bead_contents(spec, atomistic: Atomistic | None = None) -> list[str]:
    """Formula of each bead's atoms (elements sorted, Hill-like: ``C3H7``)."""
    out = []
    for ib, b in enumerate(spec.beads):
        if atomistic is not None:
            els = [atomistic.elements[a] for a in bead_atom_indices(spec, atomistic)[ib]]
        else:
            els = [element_of(a) for a in b.atoms]
        counts = {e: els.count(e) for e in sorted(set(els))}
        out.append("".join(f"{e}{c if c > 1 else ''}" for e, c in counts.items()))
    return out


def describe_permutation(perm: Sequence[int], edges, names: Sequence[str]) -> str:
    """``reversal`` when the graph is a path and ``perm`` reverses it, else its swaps
    ``permutation of beads a<->b, c->d->e``."""
    n = len(perm)
    order = _path_order(n, edges)
    if order is not None and n > 1 and all(perm[order[k]] == order[n - 1 - k] for k in range(n)):
        return "reversal"
    seen, cycles = set(), []
    for i in range(n):
        if i in seen or perm[i] == i:
            continue
        cyc, k = [], i
        while k not in seen:
            seen.add(k)
            cyc.append(names[k])
            k = perm[k]
        cycles.append("<->".join(cyc) if len(cyc) == 2 else "->".join(cyc + [cyc[0]]))
    return "permutation of beads " + ", ".join(cycles)


def _path_order(n: int, edges) -> list[int] | None:
    """Bead order along the graph if it is one simple path, else None."""
    adj = [set() for _ in range(n)]
    for i, j in edges:
        adj[i].add(j)
        adj[j].add(i)
    if n == 1:
        return [0]
    ends = [i for i in range(n) if len(adj[i]) == 1]
    if len(ends) != 2 or any(len(a) > 2 for a in adj) or len(list(edges)) != n - 1:
        return None
    order, prev = [ends[0]], None
    while len(order) < n:
        nxt = [k for k in adj[order[-1]] if k != prev]
        if not nxt:
            return None
        prev = order[-1]
        order.append(nxt[0])
    return order


def species_symmetry(spec, atomistic: Atomistic | None = None) -> dict:
    """Automorphisms of one molecule's CG bond graph with species colouring vs the molecule's
    colouring (atomistic environments with ``atomistic``, else bead contents; module doc).

    Returns n_species_automorphisms, n_content_automorphisms (those of the molecule's colouring),
    n_extra (species automorphisms that are not the molecule's), extra (a word per extra
    automorphism: "reversal" or the bead permutation), contents, compared_with, flag (n_extra > 0)."""
    n = spec.n_beads
    edges = [tuple(b) for b in spec.bonds]
    species = [b.species for b in spec.beads]
    contents = bead_contents(spec, atomistic)
    truth = bead_environments(spec, atomistic) if atomistic is not None else contents
    by_species = automorphisms(n, edges, species)
    by_content = set(automorphisms(n, edges, truth))
    extra = [p for p in by_species if p not in by_content]
    return {"n_species_automorphisms": len(by_species), "n_content_automorphisms": len(by_content),
            "n_extra": len(extra), "extra": [describe_permutation(p, edges, spec.bead_names) for p in extra],
            "contents": contents, "flag": bool(extra),
            "compared_with": "atomistic environments" if atomistic is not None else "bead contents"}


# --------------------------------------------------------------------------- 4. driver and table
COLUMNS = ["system", "mapping", "check", "statistic", "value", "threshold", "flag", "detail"]


def diagnose_mapping(dataset_path, spec, atomistic: Atomistic | None, thresholds: Thresholds = Thresholds(),
                     stride: int | None = None) -> dict:
    """All three checks of one mapping: {bond_permutation, chirality, species_symmetry,
    thresholds, summary}. ``atomistic`` None skips chirality (and uses atom names' first letters
    as elements for the bead contents)."""
    from .cgdata import CGDataset

    stride = thresholds.stride if stride is None else stride
    with CGDataset(dataset_path) as ds:
        attrs = ds.attrs
        out = {"system": str(attrs.get("system", "")), "mapping": str(attrs.get("mapping", spec.name)),
               "frames": len(range(0, ds.n_frames, stride)), "stride": stride,
               "periodic": ds.periodic, "thresholds": asdict(thresholds),
               "bond_permutation": bond_permutation_risk(ds, thresholds, stride=stride),
               "chirality_checked": atomistic is not None,
               "chirality": ([] if atomistic is None else
                             chirality_verdicts(atomistic, spec, ds, thresholds, stride=stride)),
               "species_symmetry": species_symmetry(spec, atomistic)}
    out["summary"] = summary_line(out)
    return out


def summary_line(result: dict) -> str:
    """One sentence in plain words per mapping, for the report."""
    parts = []
    risky = [b for b in result["bond_permutation"] if b["flag"]]
    if risky:
        parts.append("bond-permutation risk for " + ", ".join(
            f"{b['bond_type']} (overlap {b['overlap']:.2f}, {100 * b['closer_fraction']:.1f} % of reference "
            "entries have a non-bonded bead closer than the bond partner)" for b in risky))
    else:
        parts.append("bonded and non-bonded distances are separated")
    chi = result["chirality"]
    if chi:
        parts.append("; ".join(f"stereocentre {c['centre']} {c['verdict']}" for c in chi))
    elif result.get("chirality_checked"):
        parts.append("no stereocentre")
    sym = result["species_symmetry"]
    if sym["n_extra"]:
        parts.append(f"species allow {sym['n_extra']} symmetry(ies) the molecule lacks ("
                     + ", ".join(sym["extra"]) + ")")
    else:
        parts.append("no symmetry beyond the molecule's own")
    return f"{result['system']}/{result['mapping']}: " + "; ".join(parts) + "."


def diagnostic_rows(result: dict, system: str | None = None, mapping: str | None = None) -> list[dict]:
    """Rows of tables/diagnostics.csv (columns :data:`COLUMNS`) of one :func:`diagnose_mapping` result:
    two per bond type (overlap, closer_fraction), one per stereocentre, one for species symmetry."""
    system = result["system"] if system is None else system
    mapping = result["mapping"] if mapping is None else mapping
    th = result["thresholds"]
    rows = []

    def row(check, stat, value, threshold, flag, detail):
        rows.append(dict(zip(COLUMNS, (system, mapping, check, stat, value, threshold, bool(flag), detail))))

    for b in result["bond_permutation"]:
        detail = (f"bond {b['bond_type']}: {b['n_bonds']} bonds, {b['n_entries']} entries, {b['frames']} frames; "
                  f"bond {_nm(b['bond_min_nm'])}-{_nm(b['bond_max_nm'])} nm, "
                  f"nearest non-bonded from {_nm(b['nonbonded_min_nm'])} nm")
        row("bond_permutation", f"overlap[{b['bond_type']}]", b["overlap"], th["overlap_max"],
            b["overlap"] > th["overlap_max"], detail)
        row("bond_permutation", f"closer_fraction[{b['bond_type']}]", b["closer_fraction"],
            th["closer_fraction_max"], b["closer_fraction"] > th["closer_fraction_max"], detail)
    for c in result["chirality"]:
        imp = " ".join(c["improper"]) if c["improper"] else "none"
        row("chirality", f"improper_sign_fraction[{c['centre']}]", c["sign_fraction"], th["improper_sign_min"],
            c["verdict"] == "lost", f"{c['verdict']}; improper {imp}" + (f"; {c['reason']}" if c["reason"] else ""))
    if result.get("chirality_checked") and not result["chirality"]:
        row("chirality", "stereocentres", 0, None, False, "no stereocentre in the atomistic molecule")
    s = result["species_symmetry"]
    row("species_symmetry", "extra_automorphisms", s["n_extra"], 0, s["flag"],
        (", ".join(s["extra"]) if s["extra"] else "none")
        + f" ({s['n_species_automorphisms']} with species, {s['n_content_automorphisms']} with bead contents)")
    return rows


def _nm(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def diagnostics_table(results: Iterable[dict]):
    """tables/diagnostics.csv as a DataFrame (columns :data:`COLUMNS`) of :func:`diagnose_mapping` results."""
    import pandas as pd

    rows = [r for res in results for r in diagnostic_rows(res)]
    return pd.DataFrame(rows, columns=COLUMNS)


def write_diagnostics_table(json_paths: Iterable[str], out_csv: str) -> list[str]:
    """Aggregate diagnostics JSONs into one CSV (atomically); returns the summary line of each."""
    import json

    from .io import atomic_path

    results = []
    for p in json_paths:
        with open(p) as fh:
            results.append(json.load(fh))
    with atomic_path(out_csv) as tmp:
        diagnostics_table(results).to_csv(tmp, index=False, float_format="%.6g")
    return [r["summary"] for r in results]
