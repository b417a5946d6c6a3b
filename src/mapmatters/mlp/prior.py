"""Prior energy terms for an MLP: harmonic bonds and angles from Boltzmann inversion of the mapped
reference (the paper's suggested remedy for bond permutations; not in its results).

With a prior the model energy is ``E = E_MLP + E_prior`` and force matching fits the MLP to the
force the prior leaves unexplained (same loss, same data). The prior is fixed before training:

- **Terms by type.** A bond's type is its two beads' species (unordered), an angle's the three
  (ends unordered, centre fixed). Each type gets one harmonic term from the pooled values of all
  its bonds (angles) over the training frames.
- **Boltzmann inversion, harmonic.** For values x with mean m and variance s^2 at temperature T,
  ``U(x) = k/2 (x - m)^2`` with ``k = k_B T / s^2`` is the harmonic potential whose Boltzmann
  distribution has that mean and variance. Bond lengths (nm, k in kJ/mol/nm^2) and angles (rad,
  k in kJ/mol/rad^2) are inverted as they are, without the r^2 and sin(theta) Jacobians: a prior
  only has to hold the bonded geometry in place, the MLP corrects the rest.

The fitted prior is plain JSON (model config key ``prior``), so a saved model carries it and
every consumer of :meth:`mapmatters.mlp.model.EnergyModel.energy_fn_template` (training, MD, the
NVE scan, metadynamics) sees the same energy.

Config (MLP variant key ``prior``)::

    prior: {terms: [bonds, angles], temperature_K: 300}
"""
from __future__ import annotations

import math

import numpy as np

from ..geometry import minimum_image as _minimum_image
from ..units import KB_KJ_MOL_K

TERMS = ("bonds", "angles")


def is_request(prior) -> bool:
    """A prior still to be fitted (``{terms, temperature_K}``), not a fitted one."""
    return isinstance(prior, dict) and "fitted" not in prior


def bond_values(R, pairs, side=None) -> np.ndarray:
    """Bond lengths (nm), (F, B), minimum image for an orthorhombic ``side``."""
    R = np.asarray(R, np.float64)
    p = np.asarray(pairs, int).reshape(-1, 2)
    return np.linalg.norm(_minimum_image(R[:, p[:, 1]] - R[:, p[:, 0]], side), axis=-1)


def angle_values(R, triples, side=None) -> np.ndarray:
    """Angles i-j-k (rad, centre j), (F, A)."""
    R = np.asarray(R, np.float64)
    t = np.asarray(triples, int).reshape(-1, 3)
    u = _minimum_image(R[:, t[:, 0]] - R[:, t[:, 1]], side)
    v = _minimum_image(R[:, t[:, 2]] - R[:, t[:, 1]], side)
    return np.arctan2(np.linalg.norm(np.cross(u, v), axis=-1), np.sum(u * v, axis=-1))


def term_types(tuples, species) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Type index per bond/angle and the type keys (species tuples, ends in canonical order)."""
    sp = np.asarray(species, int)
    keys, index = [], []
    for t in np.asarray(tuples, int):
        s = tuple(int(x) for x in sp[t])
        if s[-1] < s[0]:
            s = s[::-1]
        if s not in keys:
            keys.append(s)
        index.append(keys.index(s))
    return np.asarray(index, int), keys


def fit_prior(R, species, bonds, angles, side=None, *, terms=TERMS, temperature_K: float = 300.0) -> dict:
    """Harmonic priors by type from positions ``R`` (F, N, 3) nm (module docstring). Returns the
    JSON-able fitted prior: per kind the instances (``index``), their type, and per type ``x0``,
    ``k``, the number of values and their sd."""
    unknown = set(terms) - set(TERMS)
    if unknown:
        raise ValueError(f"prior terms {sorted(unknown)} unknown; choose from {list(TERMS)}")
    kT = KB_KJ_MOL_K * float(temperature_K)
    out = {"fitted": True, "terms": list(terms), "temperature_K": float(temperature_K)}
    for kind, tuples, values, unit in (("bonds", bonds, bond_values, "nm"), ("angles", angles, angle_values, "rad")):
        tuples = np.asarray(tuples, int).reshape(-1, 2 if kind == "bonds" else 3)
        if kind not in terms or not len(tuples):
            continue
        x = values(R, tuples, side)
        types, keys = term_types(tuples, species)
        x0, k, sd, n = [], [], [], []
        for t in range(len(keys)):
            v = x[:, types == t].ravel()
            var = float(np.var(v))
            if not var > 0:
                raise ValueError(f"prior: {kind} of species {keys[t]} do not vary in the data; cannot invert")
            x0.append(float(np.mean(v)))
            k.append(kT / var)
            sd.append(math.sqrt(var))
            n.append(int(v.size))
        out[kind] = {"index": tuples.tolist(), "type": types.tolist(), "species": [list(s) for s in keys],
                     "x0": x0, "k": k, "sd": sd, "n_values": n,
                     "units": f"x0 {unit}, k kJ/mol/{unit}^2"}
    return out


def prior_energy_numpy(prior: dict, R, side=None) -> np.ndarray:
    """E_prior (kJ/mol) of frames ``R`` (F, N, 3) in numpy (checks and reports)."""
    R = np.asarray(R, np.float64)
    e = np.zeros(len(R))
    for kind, values in (("bonds", bond_values), ("angles", angle_values)):
        p = prior.get(kind)
        if not p:
            continue
        t = np.asarray(p["type"], int)
        x = values(R, p["index"], side)
        e += np.sum(0.5 * np.asarray(p["k"])[t] * (x - np.asarray(p["x0"])[t]) ** 2, axis=1)
    return e


def prior_energy_fn(prior: dict, side=None):
    """``E_prior(R)`` (kJ/mol) of one frame R (N, 3) in JAX; ``side`` None (free space) or the
    orthorhombic box (nm)."""
    import jax.numpy as jnp

    from ..geometry import jax_minimum_image

    parts = []
    for kind in ("bonds", "angles"):
        p = prior.get(kind)
        if p:
            t = np.asarray(p["type"], int)
            parts.append((kind, jnp.asarray(np.asarray(p["index"], int)),
                          jnp.asarray(np.asarray(p["k"])[t], jnp.float32),
                          jnp.asarray(np.asarray(p["x0"])[t], jnp.float32)))

    def energy(R):
        e = jnp.zeros((), R.dtype)
        for kind, idx, k, x0 in parts:
            if kind == "bonds":
                x = jnp.linalg.norm(jax_minimum_image(R[idx[:, 1]] - R[idx[:, 0]], side), axis=-1)
            else:
                u = jax_minimum_image(R[idx[:, 0]] - R[idx[:, 1]], side)
                v = jax_minimum_image(R[idx[:, 2]] - R[idx[:, 1]], side)
                x = jnp.arctan2(jnp.linalg.norm(jnp.cross(u, v), axis=-1), jnp.sum(u * v, axis=-1))
            e = e + jnp.sum(0.5 * k * (x - x0) ** 2)
        return e

    return energy


def prior_forces(prior: dict, R, side=None, batch: int = 64) -> np.ndarray:
    """-dE_prior/dR (kJ/mol/nm) of frames ``R`` (F, N, 3) (float32, JAX)."""
    import jax
    import jax.numpy as jnp

    f = jax.jit(jax.vmap(jax.grad(prior_energy_fn(prior, side))))
    R = np.asarray(R, np.float32)
    return np.concatenate([-np.asarray(f(jnp.asarray(R[i:i + batch]))) for i in range(0, len(R), batch)]) \
        if len(R) else np.zeros_like(R)
