"""Mapping specifications: which atoms form which bead, and which species each bead has.

A mapping is data in a system YAML, in one of two forms. A flat bead list, for molecules whose
atom names are unique (``config/systems/hexane.yaml``)::

    mappings:
      three-site:
        beads:
          - {name: A1, atoms: [C1, H11, H12, H13, C2, H21, H22], species: A}
          ...
        bonds: [[A1, B1], [B1, A2]]
        observable: {kind: angle, beads: [A1, B1, A2]}

or per-residue bead templates, expanded over the molecule's residue sequence (mdtraj-style
residue patterns: ``+N`` is bead N of the next residue, ``-C`` bead C of the previous one), so
a 15-mer needs no more YAML than a 1-mer::

    mappings:
      core-beta:
        residues:
          ACE: {beads: [{name: C, atoms: [C], species: C}], bonds: [[C, +N]]}
          ALA:
            beads: [{name: N, atoms: [N], species: N}, {name: CA, atoms: [CA], species: C}, ...]
            bonds: [[N, CA], [CA, CB], [CA, C], [C, +N]]
          NME: {beads: [{name: N, atoms: [N], species: N}]}

Expanded beads are named ``<residue><number>-<bead>`` (``ALA2-CA``, numbers from 1) and select
atoms by (residue, name). A link to a residue that does not exist (chain end) or that has no
such bead is skipped; a link that resolves nowhere in the molecule is an error.
``species_rule`` (unique, single, alternating, symmetric) relabels the expanded beads.

``parse_mapping`` checks everything that can be checked without a trajectory (an atom in
two beads, an unknown atom name, an empty bead, a bead without species, bonds between
unknown beads, a residue without a template, a molecule left without beads, ...) and raises
:class:`mapmatters.errors.InputError` that names the file, the key and the fix.
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
    residue: int | None = None   # 0-based residue of the molecule the atoms are in; None: by unique name


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


SPECIES_RULES = ("template", "unique", "single", "alternating", "symmetric")


def parse_mapping(name: str, entry: dict, molecule_atoms: list[str] | None, *,
                  sequence: list[str] | None = None, residue_atoms: dict[str, list[str]] | None = None,
                  source: str = "<config>") -> MappingSpec:
    """Build a :class:`MappingSpec` from one YAML entry and check it.

    ``molecule_atoms`` are the atom names of the molecule the mapping applies to; ``None``
    skips the name check (it is repeated against the real topology at mapping time).
    Residue templates need the molecule's residue ``sequence``; ``residue_atoms`` (residue name
    -> atom names, e.g. from the force field) enables the atom-name check of templates.
    """
    key = f"mappings.{name}"
    if not isinstance(entry, dict):
        raise InputError("a mapping must be a mapping with 'beads' and 'bonds'.", file=source, key=key)
    if "residues" in entry:
        if sequence is None:
            raise InputError("residue templates need the molecule's residue sequence.", file=source,
                             key=f"{key}.residues", fix="use a flat 'beads' list for this molecule.")
        beads_in, bonds_in, residue_of = expand_templates(name, entry["residues"], sequence, residue_atoms,
                                                          source=source)
        entry = {**entry, "beads": beads_in, "bonds": bonds_in}
        molecule_atoms = None   # template atoms were checked per residue
    else:
        residue_of = None
    rule = entry.get("species_rule", "template")
    if rule not in SPECIES_RULES:
        raise InputError(f"unknown species_rule '{rule}'.", file=source, key=f"{key}.species_rule",
                         fix=f"use one of: {', '.join(SPECIES_RULES)}.")
    if rule != "template" and entry.get("beads"):
        labels = species_by_rule(rule, [b.get("name") for b in entry["beads"]])
        entry = {**entry, "beads": [{**b, "species": lab} for b, lab in zip(entry["beads"], labels)]}
    beads_in = entry.get("beads")
    if not beads_in:
        raise InputError("the mapping has no beads.", file=source, key=f"{key}.beads",
                         fix="list at least one bead with 'name', 'atoms' and 'species'.")
    known = set(molecule_atoms) if molecule_atoms is not None else None
    owner: dict[tuple, str] = {}   # (residue or None, atom name) -> bead
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
            where = (None if residue_of is None else residue_of[ib], a)
            if where in owner:
                raise InputError(f"atom '{a}' is in two beads ('{owner[where]}' and '{bname}'); "
                                 "each atom may belong to at most one bead.",
                                 file=source, key=f"{bkey}.atoms",
                                 fix=f"remove '{a}' from one of the two beads.")
            owner[where] = bname
        species = str(species)
        if species not in species_names:
            species_names.append(species)
        beads.append(Bead(bname, atoms, species, None if residue_of is None else residue_of[ib]))

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


def species_by_rule(rule: str, bead_names: list[str]) -> list[str]:
    """Species labels of ``len(bead_names)`` beads in order under a species rule."""
    n = len(bead_names)
    if rule == "unique":
        return [str(b) for b in bead_names]
    if rule == "single":
        return ["A"] * n
    if rule == "alternating":
        return ["AB"[i % 2] for i in range(n)]
    if rule == "symmetric":
        return [f"S{min(i, n - 1 - i) + 1}" for i in range(n)]
    raise ValueError(rule)


def _link(ref: str) -> tuple[int, str]:
    """'+N' -> (+1, 'N'), '-C' -> (-1, 'C'), 'CA' -> (0, 'CA')."""
    ref = str(ref)
    if ref[:1] in "+-" and len(ref) > 1:
        return (1 if ref[0] == "+" else -1), ref[1:]
    return 0, ref


def expand_templates(name: str, templates: dict, sequence: list[str],
                     residue_atoms: dict[str, list[str]] | None, *, source: str = "<config>"):
    """Per-residue bead templates -> (flat bead entries, bead-name bonds, residue index per bead).

    Raises :class:`InputError` for a residue of the sequence without a template, a template atom
    the residue does not have, a bond to a bead its template lacks, a link that never resolves,
    and a molecule left without beads.
    """
    key = f"mappings.{name}.residues"
    beads, residue_of, names = [], [], {}
    for i, res in enumerate(sequence):
        if res not in templates:
            raise InputError(f"residue {res}{i + 1} of the sequence has no template.", file=source,
                             key=key, fix=f"add '{res}: {{beads: []}}' to drop it, or give it beads.")
        for ib, b in enumerate(templates[res].get("beads") or []):
            bkey = f"{key}.{res}.beads[{ib}]"
            known = residue_atoms.get(res) if residue_atoms else None
            for a in b.get("atoms") or []:
                if known is not None and str(a) not in known:
                    raise InputError(f"bead '{b['name']}' names atom '{a}', which residue {res} does not have.",
                                     file=source, key=f"{bkey}.atoms",
                                     fix=f"use atom names of {res}: {', '.join(known)}.")
            full = f"{res}{i + 1}-{b['name']}"
            if (i, str(b["name"])) in names:
                raise InputError(f"bead name '{b['name']}' is used twice in the template of {res}.",
                                 file=source, key=bkey, fix="give every bead of a template its own name.")
            names[(i, str(b["name"]))] = full
            beads.append({**b, "name": full})
            residue_of.append(i)
    if not beads:
        raise InputError(f"the templates leave the molecule ({'-'.join(sequence)}) without beads.",
                         file=source, key=key, fix="give at least one residue template a bead.")
    bonds, resolved = [], set()
    for i, res in enumerate(sequence):
        own = {str(b["name"]) for b in templates[res].get("beads") or []}
        for ibond, pair in enumerate(templates[res].get("bonds") or []):
            bk = f"{key}.{res}.bonds[{ibond}]"
            ends = []
            for ref in pair:
                off, bead = _link(ref)
                if off == 0 and bead not in own:
                    raise InputError(f"bond names bead '{bead}', which the template of {res} does not have.",
                                     file=source, key=bk, fix=f"use beads of {res}: {', '.join(sorted(own)) or 'none'}"
                                     " (prefix + or - for a bead of the next or previous residue).")
                ends.append(names.get((i + off, bead)))
            if None in ends:
                continue   # chain end, or a neighbour without that bead
            resolved.add((res, ibond))
            pair_names = tuple(sorted(ends))
            if pair_names[0] == pair_names[1]:
                raise InputError("a bead cannot be bonded to itself.", file=source, key=bk)
            if list(pair_names) not in bonds:
                bonds.append(list(pair_names))
    for res in dict.fromkeys(sequence):
        for ibond, _ in enumerate(templates[res].get("bonds") or []):
            if (res, ibond) not in resolved:
                raise InputError(f"this bond of the {res} template connects to no bead anywhere in "
                                 f"{'-'.join(sequence)}.", file=source, key=f"{key}.{res}.bonds[{ibond}]",
                                 fix="check the bead names and the +/- link (is the neighbour's bead there?).")
    return beads, bonds, residue_of


def load_mappings(system: dict, *, source: str = "<config>",
                  residue_atoms: dict[str, list[str]] | None = None) -> dict[str, MappingSpec]:
    """All mappings of a (schema-validated) system definition, checked against its atoms."""
    mol = system.get("molecule", {})
    atoms = [a["name"] for a in mol["atoms"]] if "atoms" in mol else None
    if "sequence" in mol:
        sequence = list(mol["sequence"])
    else:   # a liquid's molecule is one residue named like the molecule
        sequence = [mol.get("name", "MOL")]
        residue_atoms = {sequence[0]: atoms} if atoms is not None else residue_atoms
    return {name: parse_mapping(name, entry, atoms, sequence=sequence, residue_atoms=residue_atoms,
                                source=source)
            for name, entry in (system.get("mappings") or {}).items()}
