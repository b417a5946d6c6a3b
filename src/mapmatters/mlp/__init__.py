"""Machine-learned CG potentials: mlip MACE / NequIP models trained by force matching with
chemtrain (the authors' framework), on jax 0.10 with the patches in :mod:`.compat`.

Modules (import them explicitly; this package imports nothing heavy):

- :mod:`.compat`    patches chemtrain 0.2.0 needs on current jax / jax-md
- :mod:`.model`     MACE / NequIP energy functions on jax-md sparse neighbour lists; parameter files
- :mod:`.neighbors` neighbour lists sized over a dataset, overflow checks
- :mod:`.train`     force matching with ``chemtrain.trainers.ForceMatching``, checkpoint/resume
- :mod:`.pipeline`  config -> model variants, cut-off from N_avg, training (``mlp_train`` rule)
- :mod:`.simulation` trained model -> JAX-MD runs and ``md.json`` (``mlp_md`` rule), on the
  engine :mod:`mapmatters.simulate.md`
- :mod:`.runtime`   XLA flags, threads, backend description
"""
