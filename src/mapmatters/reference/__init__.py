"""Atomistic reference simulations with GROMACS: topology, inputs, runs, and their checks."""
