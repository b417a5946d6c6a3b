"""mapmatters: the science behind the "Mapping Still Matters" workflow.

Sub-packages are organised by what they do:

- :mod:`mapmatters.geometry`  minimum image, wrapping, whole molecules, bonds/angles/dihedrals
  (numpy; plus the jax-md free/periodic space for the JAX code) - the bottom of the package
- :mod:`mapmatters.units`     physical constants and unit conversion factors (bottom too)

- :mod:`mapmatters.mapping`   CG mapping specifications and the COM / force-sum mapping engine
- :mod:`mapmatters.reference` atomistic reference simulations with GROMACS
- :mod:`mapmatters.analysis`  distributions, RDFs and other observables
- :mod:`mapmatters.figures`   plots

Units everywhere inside the package are GROMACS units: nm, ps, kJ/mol, amu, K.
"""

__version__ = "0.1.0"
