"""CG dynamics in JAX-MD (NVT Langevin, NVE), vmapped chains, chunked resumable HDF5 output.

See :mod:`.md` (``run``, ``System``, ``system_from_model``, ``blown_up``, ``md_config``,
``loop_config``) and
:mod:`.potentials` (small analytic JAX potentials for tests and baselines), and
:mod:`.metad` (well-tempered metadynamics on a dihedral/improper CV: ``run_metad``,
``dihedral_cv``, ``free_energy``, ``barrier``, ``eyring_wait_time_ps``).
"""
