"""Classical CG models: VOTCA force matching of tabulated potentials, run in LAMMPS.

- :mod:`.model`    interaction types (bond A-B, angle A-B-A, dihedral A-B-B-A, pair A-B) from a
                   CG dataset or a mapping spec
- :mod:`.votca`    CG dataset -> .trr + VOTCA XML (topology, settings) -> ``csg_fmatch`` -> force tables
- :mod:`.tables`   force tables -> complete, extrapolated potentials -> LAMMPS table files
- :mod:`.lammps`   LAMMPS data/input files, running ``lmp``, log parsing, dump -> .xtc
- :mod:`.pipeline` :func:`fit_model` and :func:`simulate`, the two stages end to end
- :mod:`.geometry` bonded coordinates and pair distances (numpy)
- :mod:`.units`    nm/kJ/ps <-> LAMMPS ``real`` units
"""
from .lammps import LammpsSettings  # noqa: F401
from .model import InteractionType, ModelTopology  # noqa: F401
from .pipeline import fit_model, load_tables, save_tables, simulate  # noqa: F401
from .votca import FitOptions, force_match  # noqa: F401
