"""A system YAML, loaded and checked: the molecule, how its reference is built, which analyses
and stability criterion apply, and its mappings (flat or per-residue templates).

Kinds (``kind``):

- ``liquid``: a periodic box of identical molecules written atom by atom (hexane). Its CG data
  are periodic; default analyses bonded + rdf + permutation; stability by the bulk criterion.
- ``solvated``: one molecule built by GROMACS from a residue sequence (pdb2gmx, editconf,
  solvate, genion) in explicit water. Its CG data are free space (water dropped, molecule made
  whole, no box); default analysis bonded; stability by the molecular criterion.
"""
from __future__ import annotations

from pathlib import Path

from .config import validate
from .errors import InputError
from .io import load_yaml
from .mapping.spec import MappingSpec, load_mappings
from .reference.forcefield import residue_atoms

DEFAULT_ANALYSES = {"liquid": ["bonded", "rdf", "permutation"], "solvated": ["bonded"]}
DEFAULT_STABILITY = {"liquid": {"criterion": "bulk", "max_kT_kJ_mol": 5.0},
                     "solvated": {"criterion": "molecular", "max_bond_deviation_nm": 0.05}}
# keys each kind needs (the schema lists them all as optional)
KIND_KEYS = {
    "liquid": {"molecule": ("structure", "atoms", "bonds"), "box": ("n_molecules", "edge_nm")},
    "solvated": {"molecule": ("sequence", "water", "conformation"), "box": ("shape", "margin_nm")},
}


def load_system(path: str | Path) -> dict:
    """Load, schema-validate and cross-check a system YAML (mappings included).

    Fills in the kind's defaults for ``analyses`` and ``stability`` so that every later stage
    reads them from one place.
    """
    path = str(path)
    data = load_yaml(path)
    validate(data, "system.schema.yaml", source=path)
    kind = data["kind"]
    for section, keys in KIND_KEYS[kind].items():
        for k in keys:
            if k not in data[section]:
                raise InputError(f"a '{kind}' system needs '{section}.{k}'.", file=path, key=f"{section}.{k}",
                                 fix="add it (workflow/schemas/system.schema.yaml documents each key).")
    data["periodic"] = kind == "liquid"
    data.setdefault("analyses", DEFAULT_ANALYSES[kind])
    data["stability"] = _stability_defaults(data.get("stability"), kind)
    if "rdf" in data["analyses"] and not data["periodic"]:
        raise InputError("an RDF needs a periodic system, but this system's CG data are free space.",
                         file=path, key="analyses", fix="remove 'rdf' from analyses.")
    if "bonded" in data["analyses"]:
        for name, m in data["mappings"].items():
            if "observable" not in m:
                raise InputError("the 'bonded' analysis shows each mapping's observable, but this mapping has none.",
                                 file=path, key=f"mappings.{name}.observable",
                                 fix="add 'observable: {kind: dihedral, beads: [...]}' (or bond / angle).")
    if kind == "liquid":
        _check_liquid(data, path)
        ff_atoms = None
    else:
        ff_atoms = _check_sequence(data, path)
    specs = load_mappings(data, source=path, residue_atoms=ff_atoms)
    if "helix" in data["analyses"]:
        _check_helix(data, specs, path)
    return data


def _stability_defaults(given: dict | None, kind: str) -> dict:
    criterion = (given or {}).get("criterion", DEFAULT_STABILITY[kind]["criterion"])
    base = next(v for v in DEFAULT_STABILITY.values() if v["criterion"] == criterion)
    return {**base, **(given or {})}


def _check_helix(data: dict, specs: dict[str, MappingSpec], path: str) -> None:
    """The helix analysis needs a CA trace (at least 4 beads named CA) in every mapping."""
    from .analysis.helix import ca_indices

    for name, spec in specs.items():
        n_ca = len(ca_indices(spec.bead_names)) if "residues" in data["mappings"][name] else 0
        if n_ca < 4:
            raise InputError(f"the 'helix' analysis needs at least 4 beads named CA (one per residue); "
                             f"mapping '{name}' has {n_ca}.", file=path, key=f"mappings.{name}",
                             fix="add a CA bead to the residue templates, or drop 'helix' from analyses.")


def _check_liquid(data: dict, path: str) -> None:
    names = [a["name"] for a in data["molecule"]["atoms"]]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"atom name(s) {dup} appear more than once.", file=path,
                         key="molecule.atoms", fix="give every atom of the molecule its own name.")
    for i, (a, b) in enumerate(data["molecule"]["bonds"]):
        for x in (a, b):
            if x not in names:
                raise InputError(f"bond names unknown atom '{x}'.", file=path,
                                 key=f"molecule.bonds[{i}]", fix="use atom names from molecule.atoms.")
    if len(data["molecule"]["name"]) > 5:
        raise InputError("a liquid's molecule name is also its GROMACS residue name: at most 5 characters.",
                         file=path, key="molecule.name", fix="use a shorter name.")


def _check_sequence(data: dict, path: str) -> dict[str, list[str]] | None:
    """Every residue of the sequence must be known to the force field; returns its atom names."""
    ff = data["molecule"]["forcefield"]
    known = residue_atoms(ff)
    if known is None:
        return None   # GROMACS is not installed here: pdb2gmx will check
    for i, res in enumerate(data["molecule"]["sequence"]):
        if res not in known:
            raise InputError(f"residue '{res}' (position {i + 1}) is not in force field {ff}.", file=path,
                             key=f"molecule.sequence[{i}]",
                             fix=f"use a residue name from {ff}.ff/*.rtp (e.g. ACE, ALA, GLY, PRO, THR, NME).")
    return known


def mappings(system: dict, source: str = "<config>") -> dict[str, MappingSpec]:
    """The checked mappings of a loaded system."""
    ff_atoms = residue_atoms(system["molecule"]["forcefield"]) if system["kind"] == "solvated" else None
    return load_mappings(system, source=source, residue_atoms=ff_atoms)


def reference_definition(system: dict) -> dict:
    """What defines a system's atomistic reference: name, kind, molecule and box, never its
    mappings, analyses or description. The reference rules take this (not the YAML file) as their
    parameter, so editing a mapping leaves a finished reference alone."""
    return {k: system[k] for k in ("name", "kind", "molecule", "box")}


def mapping_definition(system: dict, mapping: str) -> dict:
    """What defines one CG dataset: the molecule it is cut from and that mapping's entry."""
    return {"name": system["name"], "kind": system["kind"], "periodic": system["periodic"],
            "molecule": system["molecule"], "mapping": system["mappings"][mapping]}


def mapping_spec(definition: dict, name: str, source: str = "<config>") -> MappingSpec:
    """The checked :class:`MappingSpec` of a :func:`mapping_definition`."""
    one = {"molecule": definition["molecule"], "mappings": {name: definition["mapping"]}}
    ff_atoms = residue_atoms(definition["molecule"]["forcefield"]) if definition["kind"] == "solvated" else None
    return load_mappings(one, source=source, residue_atoms=ff_atoms)[name]


def analysis_definition(system: dict) -> dict:
    """What the analysis of a run depends on: the system's analyses and stability criterion."""
    return {k: system[k] for k in ("name", "kind", "periodic", "analyses", "stability")}
