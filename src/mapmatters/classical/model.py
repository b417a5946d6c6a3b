"""The CG system as the classical model sees it: one molecule template, replicated.

A classical CG model has one tabulated interaction per *interaction type*:

- bonded types are named by the species sequence of their beads, read in the direction that
  sorts first (``bond_A-B``, ``angle_A-B-A``, ``dihedral_A-B-B-A``), so a chain and its
  reverse share a type;
- non-bonded types are species pairs (``pair_A-B``), bonded (excluded) pairs left out.

:class:`ModelTopology` is built from a CG dataset (:meth:`ModelTopology.from_dataset`) or
from a mapping spec (:meth:`ModelTopology.from_spec`); both give the same object, so the
VOTCA XML and LAMMPS inputs never need hand-written per-mapping files.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations_with_replacement

import numpy as np

from ..errors import InputError

KINDS = ("bond", "angle", "dihedral")
SIZES = {"bond": 2, "angle": 3, "dihedral": 4}


@dataclass(frozen=True, order=True)
class InteractionType:
    """One tabulated interaction: ``kind`` (bond/angle/dihedral/pair) and its species."""

    kind: str
    species: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.kind}_{'-'.join(self.species)}"

    @property
    def bonded(self) -> bool:
        return self.kind != "pair"


def canonical_species(seq) -> tuple[str, ...]:
    """The species sequence read forwards or backwards, whichever sorts first."""
    seq = tuple(str(s) for s in seq)
    rev = tuple(reversed(seq))
    return min(seq, rev)


@dataclass
class ModelTopology:
    """A CG system of ``n_molecules`` identical molecules (local indices are 0-based)."""

    molecule_name: str
    bead_names: tuple[str, ...]
    bead_species: tuple[str, ...]
    masses: tuple[float, ...]
    n_molecules: int
    bonds: tuple[tuple[int, ...], ...]
    angles: tuple[tuple[int, ...], ...]
    dihedrals: tuple[tuple[int, ...], ...]
    species_names: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if not self.species_names:
            names: list[str] = []
            for s in self.bead_species:
                if s not in names:
                    names.append(s)
            self.species_names = tuple(names)
        if len(set(self.bead_names)) != len(self.bead_names):
            raise InputError("bead names within a molecule must be unique for VOTCA.",
                             key="mappings.<mapping>.beads", fix="give every bead its own name.")

    # ------------------------------------------------------------------ sizes
    @property
    def beads_per_molecule(self) -> int:
        return len(self.bead_names)

    @property
    def n_beads(self) -> int:
        return self.beads_per_molecule * self.n_molecules

    def terms(self, kind: str) -> tuple[tuple[int, ...], ...]:
        """Local bead tuples of one bonded kind."""
        return {"bond": self.bonds, "angle": self.angles, "dihedral": self.dihedrals}[kind]

    # ------------------------------------------------------------------ types
    def term_type(self, kind: str, term) -> InteractionType:
        return InteractionType(kind, canonical_species(self.bead_species[i] for i in term))

    def bonded_types(self) -> dict[InteractionType, list[tuple[int, ...]]]:
        """Bonded interaction types with their local bead tuples, in a stable order."""
        out: dict[InteractionType, list[tuple[int, ...]]] = {}
        for kind in KINDS:
            for term in self.terms(kind):
                out.setdefault(self.term_type(kind, term), []).append(tuple(term))
        return out

    def pair_types(self) -> list[InteractionType]:
        """All species pairs (species in order of first appearance)."""
        return [InteractionType("pair", (a, b))
                for a, b in combinations_with_replacement(self.species_names, 2)]

    def excluded_pairs(self) -> set[tuple[int, int]]:
        """Local pairs joined by a bond, angle or dihedral (no non-bonded term between them)."""
        out = set()
        for kind in KINDS:
            for term in self.terms(kind):
                i, j = term[0], term[-1]
                out.add((min(i, j), max(i, j)))
        for i, j in self.bonds:
            out.add((min(i, j), max(i, j)))
        return out

    # ------------------------------------------------------------------ global arrays
    def global_terms(self, kind: str) -> tuple[np.ndarray, list[InteractionType]]:
        """(T, k) global bead indices of every term of ``kind`` and the type of each row."""
        local = self.terms(kind)
        k = SIZES[kind]
        if not local:
            return np.zeros((0, k), dtype=np.int64), []
        loc = np.asarray(local, dtype=np.int64)
        offs = np.arange(self.n_molecules, dtype=np.int64) * self.beads_per_molecule
        glob = (offs[:, None, None] + loc[None]).reshape(-1, k)
        types = [self.term_type(kind, t) for t in local] * self.n_molecules
        return glob, types

    def species_per_bead(self) -> np.ndarray:
        """Species label of every bead (global order)."""
        return np.tile(np.asarray(self.bead_species, dtype=object), self.n_molecules)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_spec(cls, spec, n_molecules: int, masses=None, molecule_name: str = "MOL") -> "ModelTopology":
        """From a :class:`mapmatters.mapping.MappingSpec` (masses default to 1 amu)."""
        nb = spec.n_beads
        m = tuple(float(x) for x in (masses if masses is not None else [1.0] * nb))
        if len(m) != nb:
            raise InputError(f"{len(m)} masses for {nb} beads.", key=f"mappings.{spec.name}")
        return cls(molecule_name=molecule_name, bead_names=tuple(spec.bead_names),
                   bead_species=tuple(b.species for b in spec.beads), masses=m,
                   n_molecules=int(n_molecules), bonds=tuple(tuple(b) for b in spec.bonds),
                   angles=tuple(tuple(a) for a in spec.angles()),
                   dihedrals=tuple(tuple(d) for d in spec.dihedrals()),
                   species_names=tuple(spec.species_names))

    @classmethod
    def from_dataset(cls, ds, molecule_name: str | None = None) -> "ModelTopology":
        """From an open :class:`mapmatters.cgdata.CGDataset`; checks that molecules are replicas."""
        t = ds.topology
        n_mol = int(ds.attrs.get("n_molecules", len(np.unique(t.molecule))))
        nb = int(ds.attrs.get("beads_per_molecule", t.n_beads // max(n_mol, 1)))
        if nb * n_mol != t.n_beads:
            raise InputError(f"{t.n_beads} beads are not {n_mol} molecules x {nb} beads.", file=ds.path,
                             fix="re-create the CG dataset with the mapping rule.")
        expect_mol = np.repeat(np.arange(n_mol), nb)
        if not np.array_equal(np.asarray(t.molecule), expect_mol):
            raise InputError("beads are not ordered molecule by molecule.", file=ds.path,
                             key="topology/molecule", fix="re-create the CG dataset with the mapping rule.")
        species = [t.species_names[s] for s in t.species]
        names = [str(x) for x in t.bead_names]
        masses = np.asarray(t.masses, dtype=float)
        for m in range(1, n_mol):
            sl = slice(m * nb, (m + 1) * nb)
            if (species[sl] != species[:nb] or names[sl] != names[:nb]
                    or not np.allclose(masses[sl], masses[:nb])):
                raise InputError(f"molecule {m} differs from molecule 0 (species, names or masses); "
                                 "the classical model needs identical molecules.", file=ds.path,
                                 key="topology")

        def local(arr, k):
            arr = np.asarray(arr, dtype=np.int64).reshape(-1, k)
            first = arr[np.all(arr < nb, axis=1)]
            if len(arr) != len(first) * n_mol:
                raise InputError(f"the {k}-bead terms are not the same in every molecule.", file=ds.path,
                                 key="topology")
            return tuple(tuple(int(v) for v in row) for row in first)

        name = molecule_name or str(ds.attrs.get("system", "MOL"))[:4].upper() or "MOL"
        return cls(molecule_name=name, bead_names=tuple(names[:nb]), bead_species=tuple(species[:nb]),
                   masses=tuple(float(x) for x in masses[:nb]), n_molecules=n_mol,
                   bonds=local(t.bonds, 2), angles=local(t.angles, 3),
                   dihedrals=local(t.dihedrals, 4), species_names=tuple(t.species_names))
