"""Mapping specifications: which atoms form which bead, and which species each bead has.

A mapping is data in a system YAML (see ``config/systems/hexane.yaml``)::

    mappings:
      three-site:
        beads:
          - {name: A1, atoms: [C1, H11, H12, H13, C2, H21, H22], species: A}
          ...
        bonds: [[A1, B1], [B1, A2]]
        observable: {kind: angle, beads: [A1, B1, A2]}

``parse_mapping`` checks everything that can be checked without a trajectory (an atom in
two beads, an unknown atom name, an empty bead, a bead without species, bonds between
unknown beads, ...) and raises :class:`mapmatters.errors.InputError` that names the file,
the key and the fix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from ..errors import InputError

OBSERVABLE_SIZES = {"bond": 2, "angle": 3, "dihedral": 4}


@dataclass(frozen=True)
class Bead:
    name: str
    atoms: tuple[str, ...]
    species: str


@dataclass(frozen=True)
class MappingSpec:
    """One mapping of one molecule (bead indices are 0-based within the molecule)."""

    name: str
    beads: tuple[Bead, ...]
    bonds: tuple[tuple[int, int], ...]
    observable_kind: str | None = None
    observable_beads: tuple[int, ...] = ()
    description: str = ""
    species_names: tuple[str, ...] = field(default=())

    @property
    def n_beads(self) -> int:
        return len(self.beads)

    @property
    def bead_names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.beads)

    @property
    def species_ids(self) -> tuple[int, ...]:
        """Integer species per bead, in order of first appearance of each species name."""
        return tuple(self.species_names.index(b.species) for b in self.beads)

    def angles(self) -> list[tuple[int, int, int]]:
        """Bonded bead triples i-j-k derived from the CG bonds."""
        adj = self._adjacency()
        return [(i, j, k) for j in range(self.n_beads) for i, k in combinations(sorted(adj[j]), 2)]

    def dihedrals(self) -> list[tuple[int, int, int, int]]:
        """Bonded bead quadruples i-j-k-l derived from the CG bonds."""
        adj = self._adjacency()
        out = []
        for j, k in self.bonds:
            for i in sorted(adj[j] - {k}):
                for l in sorted(adj[k] - {j}):
                    if i != l:
                        out.append((i, j, k, l))
        return out

    def excluded_pairs(self) -> set[tuple[int, int]]:
        """Intramolecular bead pairs joined by a bond, an angle or a dihedral (1-2, 1-3, 1-4).

        These are the pairs excluded from RDFs and from classical non-bonded terms.
        """
        pairs = {tuple(sorted(b)) for b in self.bonds}
        pairs |= {(min(i, k), max(i, k)) for i, _, k in self.angles()}
        pairs |= {(min(i, l), max(i, l)) for i, _, _, l in self.dihedrals()}
        return pairs

    def _adjacency(self) -> list[set[int]]:
        adj: list[set[int]] = [set() for _ in self.beads]
        for i, j in self.bonds:
            adj[i].add(j)
            adj[j].add(i)
        return adj


def parse_mapping(name: str, entry: dict, molecule_atoms: list[str] | None, *,
                  source: str = "<config>") -> MappingSpec:
    """Build a :class:`MappingSpec` from one YAML entry and check it.

    ``molecule_atoms`` are the atom names of the molecule the mapping applies to; ``None``
    skips the name check (it is repeated against the real topology at mapping time).
    """
    key = f"mappings.{name}"
    if not isinstance(entry, dict):
        raise InputError("a mapping must be a mapping with 'beads' and 'bonds'.", file=source, key=key)
    beads_in = entry.get("beads")
    if not beads_in:
        raise InputError("the mapping has no beads.", file=source, key=f"{key}.beads",
                         fix="list at least one bead with 'name', 'atoms' and 'species'.")
    known = set(molecule_atoms) if molecule_atoms is not None else None
    owner: dict[str, str] = {}
    beads: list[Bead] = []
    species_names: list[str] = []
    for ib, b in enumerate(beads_in):
        bkey = f"{key}.beads[{ib}]"
        if not isinstance(b, dict) or "name" not in b:
            raise InputError("a bead needs a 'name'.", file=source, key=bkey)
        bname = str(b["name"])
        bkey = f"{key}.beads[{ib}] ({bname})"
        if any(x.name == bname for x in beads):
            raise InputError(f"bead name '{bname}' is used twice.", file=source, key=bkey,
                             fix="give every bead of a mapping its own name.")
        atoms = b.get("atoms")
        if not atoms:
            raise InputError(f"bead '{bname}' has no atoms.", file=source, key=f"{bkey}.atoms",
                             fix="list the atom names that form this bead.")
        species = b.get("species")
        if species is None or str(species).strip() == "":
            raise InputError(f"bead '{bname}' has no species.", file=source, key=f"{bkey}.species",
                             fix="give every bead a species label, e.g. 'species: A'.")
        atoms = tuple(str(a) for a in atoms)
        for a in atoms:
            if known is not None and a not in known:
                raise InputError(f"bead '{bname}' names atom '{a}', which the molecule does not have.",
                                 file=source, key=f"{bkey}.atoms",
                                 fix=f"use one of the molecule's atom names: {', '.join(molecule_atoms)}.")
            if a in owner:
                raise InputError(f"atom '{a}' is in two beads ('{owner[a]}' and '{bname}'); "
                                 "each atom may belong to at most one bead.",
                                 file=source, key=f"{bkey}.atoms",
                                 fix=f"remove '{a}' from one of the two beads.")
            owner[a] = bname
        species = str(species)
        if species not in species_names:
            species_names.append(species)
        beads.append(Bead(bname, atoms, species))

    index = {b.name: i for i, b in enumerate(beads)}

    def _resolve(names, k):
        out = []
        for n in names:
            if str(n) not in index:
                raise InputError(f"unknown bead '{n}'.", file=source, key=k,
                                 fix=f"use bead names of this mapping: {', '.join(index)}.")
            out.append(index[str(n)])
        return tuple(out)

    bonds = []
    for ibond, pair in enumerate(entry.get("bonds") or []):
        bk = f"{key}.bonds[{ibond}]"
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise InputError("a CG bond is a pair of bead names.", file=source, key=bk)
        i, j = _resolve(pair, bk)
        if i == j:
            raise InputError("a bead cannot be bonded to itself.", file=source, key=bk)
        bonds.append((min(i, j), max(i, j)))
    if len(set(bonds)) != len(bonds):
        raise InputError("a CG bond is listed twice.", file=source, key=f"{key}.bonds")

    obs = entry.get("observable")
    kind, obeads = None, ()
    if obs:
        kind = obs.get("kind")
        if kind not in OBSERVABLE_SIZES:
            raise InputError(f"unknown observable kind '{kind}'.", file=source, key=f"{key}.observable.kind",
                             fix="use one of: bond, angle, dihedral.")
        obeads = _resolve(obs.get("beads") or [], f"{key}.observable.beads")
        if len(obeads) != OBSERVABLE_SIZES[kind]:
            raise InputError(f"the observable ({kind}) needs {OBSERVABLE_SIZES[kind]} beads, got {len(obeads)}.",
                             file=source, key=f"{key}.observable.beads")
    return MappingSpec(name=name, beads=tuple(beads), bonds=tuple(bonds), observable_kind=kind,
                       observable_beads=obeads, description=str(entry.get("description", "")),
                       species_names=tuple(species_names))


def load_mappings(system: dict, *, source: str = "<config>") -> dict[str, MappingSpec]:
    """All mappings of a (schema-validated) system definition, checked against its atoms."""
    atoms = [a["name"] for a in system["molecule"]["atoms"]] if "atoms" in system.get("molecule", {}) else None
    return {name: parse_mapping(name, entry, atoms, source=source)
            for name, entry in (system.get("mappings") or {}).items()}
