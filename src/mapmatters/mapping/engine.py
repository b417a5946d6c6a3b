"""The mapping engine: CG positions are mass-weighted bead centres, CG forces bead sums.

    R_I = sum_{i in I} (m_i / M_I) r_i          f_I = sum_{i in I} f_i

Atoms in no bead are dropped. Centres are computed from minimum-image displacements to
the bead's first atom, so a molecule split by the periodic box maps correctly; the
resulting positions are wrapped into the primary cell. All arrays are in GROMACS units
(nm, kJ/mol/nm, amu) and are processed a chunk of frames at a time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..geometry import minimum_image, wrap
from .spec import MappingSpec


@dataclass(frozen=True)
class CGMap:
    """A mapping applied to a concrete topology (all indices are global, 0-based)."""

    spec: MappingSpec
    n_atoms: int                 # atoms in the atomistic system
    atom_index: np.ndarray       # (K,) atoms that enter any bead, grouped bead by bead
    ref_atom: np.ndarray         # (K,) for each entry, the first atom of its bead
    weights: np.ndarray          # (K,) mass fraction of each entry inside its bead
    starts: np.ndarray           # (N,) offset of each bead's first entry in atom_index
    species: np.ndarray          # (N,) integer species per CG bead
    bead_names: np.ndarray       # (N,) bead name per CG bead
    masses: np.ndarray           # (N,) bead mass (amu)
    molecule: np.ndarray         # (N,) molecule index per CG bead (0..n_molecules-1)
    bonds: np.ndarray            # (B, 2) bonded CG bead pairs

    @property
    def n_beads(self) -> int:
        return len(self.starts)

    @property
    def n_molecules(self) -> int:
        return int(self.molecule.max()) + 1 if len(self.molecule) else 0

    def bead_atoms(self, bead: int) -> np.ndarray:
        end = self.starts[bead + 1] if bead + 1 < self.n_beads else len(self.atom_index)
        return self.atom_index[self.starts[bead]:end]


def build_cgmap(spec: MappingSpec, *, names, masses, molnums, moltypes, molecule_type: str,
                topology: str = "<topology>", source: str = "<config>") -> CGMap:
    """Apply ``spec`` to every molecule of type ``molecule_type`` in a topology.

    ``names``, ``masses``, ``molnums`` and ``moltypes`` are per-atom arrays as read from
    the GROMACS run input (.tpr). Raises :class:`InputError` for a molecule type that is
    not there, atom names the molecule lacks, repeated atom names, or non-positive masses.
    """
    names = np.asarray(names).astype(str)
    masses = np.asarray(masses, dtype=np.float64)
    molnums = np.asarray(molnums)
    moltypes = np.asarray(moltypes).astype(str)
    n_atoms = len(names)
    sel = np.flatnonzero(moltypes == molecule_type)
    if len(sel) == 0:
        raise InputError(f"no molecule of type '{molecule_type}' in the topology "
                         f"(types there: {', '.join(sorted(set(moltypes)))}).",
                         file=topology, key="molecule.name",
                         fix="set molecule.name in the system YAML to the GROMACS molecule type.")
    mol_ids = np.unique(molnums[sel])
    atom_index, ref_atom, weights, starts = [], [], [], []
    species, bead_names, bead_masses, bead_mol, bonds = [], [], [], [], []
    sp_ids = spec.species_ids
    for m, mol in enumerate(mol_ids):
        idx = np.flatnonzero(molnums == mol)
        local = {}
        for i in idx:
            if names[i] in local:
                raise InputError(f"atom name '{names[i]}' appears twice in molecule {m + 1}; "
                                 "mapping by name needs unique names.", file=topology,
                                 fix="give every atom of the molecule its own name.")
            local[names[i]] = i
        first_bead = len(starts)
        for ib, bead in enumerate(spec.beads):
            missing = [a for a in bead.atoms if a not in local]
            if missing:
                raise InputError(f"bead '{bead.name}' names atom(s) {missing} that molecule {m + 1} "
                                 f"('{molecule_type}') does not have in {topology}.", file=source,
                                 key=f"mappings.{spec.name}.beads[{ib}].atoms",
                                 fix=f"use atom names of the molecule: {', '.join(sorted(local))}.")
            ai = np.array([local[a] for a in bead.atoms], dtype=np.int64)
            mi = masses[ai]
            if np.any(mi <= 0):
                raise InputError(f"bead '{bead.name}' contains atoms with non-positive mass "
                                 "(virtual sites cannot be mapped by mass).", file=topology,
                                 key=f"mappings.{spec.name}.beads[{ib}].atoms")
            starts.append(len(atom_index))
            atom_index.extend(ai)
            ref_atom.extend([ai[0]] * len(ai))
            weights.extend(mi / mi.sum())
            species.append(sp_ids[ib])
            bead_names.append(bead.name)
            bead_masses.append(mi.sum())
            bead_mol.append(m)
        bonds.extend((first_bead + i, first_bead + j) for i, j in spec.bonds)
    return CGMap(spec=spec, n_atoms=n_atoms,
                 atom_index=np.asarray(atom_index, dtype=np.int64),
                 ref_atom=np.asarray(ref_atom, dtype=np.int64),
                 weights=np.asarray(weights, dtype=np.float64),
                 starts=np.asarray(starts, dtype=np.int64),
                 species=np.asarray(species, dtype=np.int32),
                 bead_names=np.asarray(bead_names),
                 masses=np.asarray(bead_masses, dtype=np.float64),
                 molecule=np.asarray(bead_mol, dtype=np.int32),
                 bonds=np.asarray(bonds, dtype=np.int64).reshape(-1, 2))


def map_positions(cg: CGMap, positions: np.ndarray, box: np.ndarray | None) -> np.ndarray:
    """CG bead centres (F, N, 3) from atomistic positions (F, n_atoms, 3) in nm.

    ``box`` (F, 3, 3) enables minimum-image bead assembly and wrapping; ``None`` means
    no periodicity (molecules in vacuum or implicit solvent).
    """
    x = np.asarray(positions, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    _check_atoms(cg, x)
    ref = x[:, cg.ref_atom]
    d = x[:, cg.atom_index] - ref
    if box is not None:
        box = np.broadcast_to(np.asarray(box, dtype=np.float64), (x.shape[0], 3, 3))
        d = minimum_image(d, box)
    com = x[:, cg.atom_index[cg.starts]] + np.add.reduceat(cg.weights[None, :, None] * d, cg.starts, axis=1)
    if box is not None:
        com = wrap(com, box)
    return com


def map_forces(cg: CGMap, forces: np.ndarray) -> np.ndarray:
    """CG forces (F, N, 3): the sum of each bead's atom forces (kJ/mol/nm)."""
    f = np.asarray(forces, dtype=np.float64)
    if f.ndim == 2:
        f = f[None]
    _check_atoms(cg, f)
    return np.add.reduceat(f[:, cg.atom_index], cg.starts, axis=1)


def _check_atoms(cg: CGMap, arr: np.ndarray) -> None:
    if arr.shape[1] != cg.n_atoms:
        raise InputError(f"the trajectory has {arr.shape[1]} atoms but the topology has {cg.n_atoms}.",
                         fix="map a trajectory with the run input (.tpr) that produced it.")
