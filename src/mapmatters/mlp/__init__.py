"""Machine-learned CG potentials: mlip MACE / NequIP models trained by force matching with
chemtrain (the authors' framework), on jax 0.10 with the patches in :mod:`.compat`.

Modules (import them explicitly; this package imports nothing heavy):

- :mod:`.compat`    patches chemtrain 0.2.0 needs on current jax / jax-md
- :mod:`.model`     MACE / NequIP energy functions on jax-md sparse neighbour lists; parameter files
- :mod:`.neighbors` neighbour lists sized over a dataset, overflow checks
- :mod:`.train`     force matching with ``chemtrain.trainers.ForceMatching``, checkpoint/resume
- :mod:`.units`     unit constants, re-exported from :mod:`mapmatters.units`
"""
