"""MACE and NequIP energy models for CG systems, from PyPI ``mlip`` (InstaDeep), in JAX-MD form.

The model is the maintained library's flax module (``mlip.models.Mace`` / ``mlip.models.Nequip``);
this file only glues it to jax-md neighbour lists and to our units. What we write ourselves
and why:

- *Graph construction from a jax-md sparse neighbour list.* mlip builds graphs either from
  ASE atoms (matscipy, on the host: not differentiable inside a jitted MD step) or inside its
  own ``JaxMDSimulationEngine`` (which wants ASE atoms and owns the integrator loop, so it
  cannot be handed to chemtrain's ForceMatching or to our vmapped multi-chain loop).
  :func:`_graph` does the same as mlip's ``update_graph_in_simulation_step``: one padding
  node (index N, atomic number 0, its own padding graph) that jax-md's sparse list already
  uses as the "no edge" index, and edges sorted by sender (jax-md's sparse list is sorted by
  ``idx[0]``, so ``senders = idx[0]``; the graph is symmetric, so that is a valid choice).
- *Units.* Positions, boxes and neighbour lists are in nm; mlip's cut-off and radial basis
  are in Angstrom, so edge vectors are multiplied by 10 inside the displacement function
  and the cut-off passed to mlip is ``r_cut_nm * 10``. Energies are in whatever unit the
  model is trained on (kJ/mol here); forces = -dE/dR(nm) are then in kJ/mol/nm.
  (The Bessel basis is ``sqrt(2/c) sin(n pi r/c) / r``: a function of r/c times c^(-3/2),
  so feeding Angstrom keeps mlip's initialisation scale, which was tuned for Angstrom.)
- *Species.* CG bead types 0..S-1 become pseudo atomic numbers 1..S (mlip validates them as
  elements and maps atomic number 0, our padding node, to its placeholder).
- *No atomic energies*: force matching only sees energy differences.
- *Tensor products on the CPU.* For training, the model is traced with e3j's products written
  as static slices instead of gathers and scatter-adds (:mod:`.tensor_product`): the same model
  and parameters, a faster second derivative on a CPU.
- *Output scale.* mlip's freshly initialised MACE gives forces of order 1 per Angstrom in its
  own units, while CG forces of hexane are ~600 kJ/mol/nm (RMS per component), so an unscaled
  model starts near zero force and Adam at lr 1e-3 needs very many steps to grow its weights
  (with the small presets' few hundred steps the force error stays at the force RMS). As in
  mace-torch's ScaleShiftMACE (scale = RMS of the training forces), the energy is multiplied
  by ``energy_scale`` = RMS force component (kJ/mol/nm) x 0.1 nm (the model sees Angstrom), so
  initial forces are of the data's size; :mod:`.train` fills it in from the training split.

Periodic boxes are orthorhombic (the hexane boxes are cubic); the minimum image is taken in
the displacement function, so ``r_cut`` must be below half the shortest box edge. Molecules
in implicit solvent use ``box=None`` (free space).

Model config (a plain dict, JSON-serialisable; missing keys take :data:`DEFAULTS`)::

    model: "mace" | "nequip"
    r_cut: 0.5            # nm
    num_layers: 2         # L
    correlation: 2        # nu (MACE)
    hidden_irreps: "32x0e + 32x1o"   # MACE: 32 channels, node_symmetry 1; NequIP: target irreps
    readout_irreps: "16x0e"  # MACE readout MLP
    max_ell: 3
    num_rbf: 8
    radial_mlp_hidden: [64, 64, 64]          # MACE radial MLP (mlip default)
    nequip_radial_mlp_hidden: [64, 64]       # NequIP radial MLP (mlip default)
    avg_num_neighbors: null   # filled in from the data (see neighbors.allocate)
    n_species: null           # filled in from the data
    energy_scale: null        # kJ/mol per model output unit; filled in from the data (see below)
    dtype: "float32"
    prior: null               # or {terms: [bonds, angles], temperature_K}: harmonic priors fitted
                              # before training (mapmatters.mlp.prior); E = E_MLP + E_prior
"""
from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..config import with_defaults
from ..geometry import box_side, jax_minimum_image, jax_space
from ..units import NM_TO_ANGSTROM
from . import compat
from . import tensor_product as TP

DEFAULTS: dict[str, Any] = {
    "model": "mace",
    "r_cut": 0.5,
    "num_layers": 2,
    "correlation": 2,
    "hidden_irreps": "32x0e + 32x1o",
    "readout_irreps": "16x0e",
    "max_ell": 3,
    "num_rbf": 8,
    "radial_mlp_hidden": [64, 64, 64],
    "avg_num_neighbors": None,
    "n_species": None,
    "nequip_radial_mlp_hidden": [64, 64],
    "dtype": "float32",
    "energy_scale": None,
    "prior": None,
}


def model_config(config: dict | None = None, **overrides) -> dict:
    """Complete a model config dict with :data:`DEFAULTS` and check it."""
    cfg = with_defaults(DEFAULTS, config, overrides, "model config")
    if cfg["model"] not in ("mace", "nequip"):
        raise ValueError(f"model must be 'mace' or 'nequip', not {cfg['model']!r}")
    if not cfg["r_cut"] or cfg["r_cut"] <= 0:
        raise ValueError("r_cut (nm) must be positive")
    if cfg["dtype"] not in ("float32", "float64"):
        raise ValueError("dtype must be float32 or float64")
    if cfg["model"] == "mace":
        _hidden_irreps(cfg)  # validates
    return cfg


def _hidden_irreps(cfg) -> tuple[int, int]:
    """(num_channels, node_symmetry) from a hidden irreps string such as "32x0e + 32x1o".

    mlip's MACE keeps ``num_channels`` copies of every irrep 0e, 1o, ... up to
    ``node_symmetry`` (parity (-1)^l), so only that family of hidden irreps can be expressed.
    """
    import e3nn_jax as e3nn

    irreps = e3nn.Irreps(cfg["hidden_irreps"]).simplify()
    muls = {ir.l: mul for mul, ir in irreps}
    lmax = max(muls)
    want = e3nn.Irreps.spherical_harmonics(lmax)
    if sorted(muls) != list(range(lmax + 1)) or len(set(muls.values())) != 1 or \
            [ir for _, ir in irreps] != [ir for _, ir in want]:
        raise ValueError(f"hidden_irreps {cfg['hidden_irreps']!r}: mlip's MACE needs the form "
                         "'Cx0e + Cx1o [+ Cx2e ...]' (same multiplicity C, parity (-1)^l)")
    return muls[0], lmax


def _mlip_module(cfg: dict):
    """The flax module of mlip for a completed config."""
    from mlip.data.dataset_info import DatasetInfo
    from mlip.models import Mace, Nequip
    from mlip.models.mace.config import MaceConfig
    from mlip.models.nequip.config import NequipConfig

    n_species = cfg["n_species"]
    if not n_species:
        raise ValueError("model config needs n_species (number of CG bead types)")
    info = DatasetInfo(
        atomic_energies_map={k + 1: 0.0 for k in range(int(n_species))},
        graph_cutoff_angstrom=float(cfg["r_cut"]) * NM_TO_ANGSTROM,
        avg_num_neighbors=float(cfg["avg_num_neighbors"] or 1.0),
        avg_r_min_angstrom=None,
    )
    if cfg["model"] == "mace":
        channels, node_sym = _hidden_irreps(cfg)
        mcfg = MaceConfig(
            num_layers=int(cfg["num_layers"]), num_channels=channels, l_max=int(cfg["max_ell"]),
            node_symmetry=node_sym, correlation=int(cfg["correlation"]),
            readout_irreps=(cfg["readout_irreps"], "0e"), num_rbf=int(cfg["num_rbf"]),
            radial_mlp_hidden=list(cfg["radial_mlp_hidden"]), add_atomic_energies=False)
        return Mace(config=mcfg, dataset_info=info)
    ncfg = NequipConfig(
        num_layers=int(cfg["num_layers"]), target_irreps=cfg["hidden_irreps"],
        l_max=int(cfg["max_ell"]), num_rbf=int(cfg["num_rbf"]),
        radial_mlp_hidden=list(cfg["nequip_radial_mlp_hidden"]), add_atomic_energies=False)
    return Nequip(config=ncfg, dataset_info=info)


def _displacement(box):
    """Edge-vector function (nm in, Angstrom out) for an orthorhombic box or free space."""
    import jax.numpy as jnp

    def free(ra, rb, cell):
        return NM_TO_ANGSTROM * (ra - rb)

    def periodic(ra, rb, cell):
        return NM_TO_ANGSTROM * jax_minimum_image(ra - rb, jnp.diagonal(cell[0]))

    return free if box is None else periodic


def _graph(R, idx, atomic_numbers, box, displ, r_cut=None):
    """mlip Graph of one configuration from a jax-md sparse neighbour list index (2, E).

    With ``r_cut`` (nm), edges at or beyond the cut-off are turned into padding edges (both
    ends the padding node N): a list built with a skin (MD) holds pairs out to r_cut + skin,
    and the model must see exactly the pairs within r_cut, as with a list without skin.
    """
    import jax
    import jax.numpy as jnp
    from mlip.graph import EdgeOrdering, Graph, GraphEdges, GraphGlobals, GraphNodes

    n = R.shape[0]
    if r_cut is not None:
        # the same test as jax-md's list (squared minimum-image distance < r_cut^2, in nm)
        real = idx[0] < n
        s, r = jnp.where(real, idx[0], 0), jnp.where(real, idx[1], 0)
        d = jax.lax.stop_gradient(R[s] - R[r])
        if box is not None:
            d = jax_minimum_image(d, jnp.asarray(box, R.dtype))
        keep = real & (jnp.sum(d * d, axis=-1) < jnp.asarray(r_cut * r_cut, R.dtype))
        idx = jnp.where(keep[None, :], idx, n)
    positions = jnp.concatenate([R, jnp.zeros((1, 3), R.dtype)], axis=0)
    z = jnp.concatenate([atomic_numbers, jnp.zeros((1,), atomic_numbers.dtype)])
    if box is None:
        cell = jnp.zeros((2, 3, 3), R.dtype)
    else:
        cell = jnp.stack([jnp.diag(jnp.asarray(box, R.dtype)), jnp.zeros((3, 3), R.dtype)])
    displ_fun = jax.tree_util.Partial(jax.vmap(displ, in_axes=(0, 0, None)))
    senders, receivers = idx[0], idx[1]
    # jax-md pads with index n; mlip's padding graph is node n. Edges between real nodes only
    # are counted in the real graph's n_edge; padding edges sit at the end.
    return Graph(
        nodes=GraphNodes(positions=positions, atomic_numbers=z),
        edges=GraphEdges(shifts=None, displ_fun=displ_fun),
        globals=GraphGlobals(cell=cell, weight=jnp.array([1.0, 0.0], R.dtype),
                             energy=jnp.zeros((2,), R.dtype)),
        n_node=jnp.array([n, 1]),
        n_edge=jnp.array([idx.shape[1], 0]),
        senders=senders, receivers=receivers,
        ordering=EdgeOrdering.SENDER,
    )


@dataclass
class EnergyModel:
    """A CG energy model: ``init(key, R, neighbor)`` and ``energy_fn_template(params)``.

    ``energy_fn_template(params)`` returns ``energy_fn(R, neighbor=..., box=None, **kw)``
    (chemtrain's convention) giving the total energy; ``neighbor`` is a jax-md *sparse*
    neighbour list built with :meth:`neighbor_fn`.
    """

    config: dict
    species: np.ndarray
    box: np.ndarray | None
    #: how e3j's tensor products are traced (:mod:`.tensor_product`): "sliced" (static slices;
    #: training and MD) or "e3j" (the library's gather / scatter-add, to compare with)
    tensor_products: str = TP.MD

    def __post_init__(self):
        import jax.numpy as jnp

        compat.apply()
        if self.tensor_products not in TP.METHODS:
            raise ValueError(f"tensor_products {self.tensor_products!r}: choose one of {TP.METHODS}")
        self.module = _mlip_module(self.config)
        self._z = jnp.asarray(np.asarray(self.species, dtype=np.int32) + 1)
        self._displ = _displacement(self.box)

    @property
    def periodic(self) -> bool:
        return self.box is not None

    @property
    def r_cut(self) -> float:
        return float(self.config["r_cut"])

    def graph(self, R, neighbor, box=None, idx=None):
        """The mlip graph at R from a jax-md sparse list ``neighbor`` or, if given, from its
        edge index ``idx`` (2, E) alone (precomputed lists of fixed training frames)."""
        b = self.box if box is None else box
        if self.box is not None and box is not None and np.ndim(box) == 2:
            import jax.numpy as jnp
            b = jnp.diagonal(box)
        return _graph(R, neighbor.idx if idx is None else idx, self._z,
                      None if self.box is None else b, self._displ, self.r_cut)

    def init(self, key, R, neighbor):
        """Random parameters (flax variables dict) for example positions (jit-compiled: the
        eager flax init of MACE takes ~30 s on 2 cores, the compiled one a few)."""
        import jax
        import jax.numpy as jnp

        R = jnp.asarray(R, dtype=self.config["dtype"])

        def init(k, r, nb):
            with TP.evaluation(self.tensor_products):
                return self.module.init(k, self.graph(r, nb))
        return jax.jit(init)(key, R, neighbor)

    def energy_fn_template(self, params) -> Callable:
        module = self.module
        scale = float(self.config.get("energy_scale") or 1.0)
        prior = self.prior_energy()
        method = self.tensor_products

        def energy_fn(R, neighbor=None, box=None, nbr_idx=None, **unused):
            # nbr_idx: a precomputed edge index (2, E) of this frame (training batches carry
            # it); the list in ``neighbor`` is then not used, and XLA drops its update
            g = self.graph(R, neighbor, box, idx=nbr_idx)
            with TP.evaluation(method):
                out = module.apply(params, g)
            e = scale * out.nodes.features["energy"][: R.shape[0]].sum()
            return e if prior is None else e + prior(R)

        return energy_fn

    def prior_energy(self) -> Callable | None:
        """The fitted prior's energy R -> kJ/mol (:mod:`mapmatters.mlp.prior`), or None."""
        from . import prior as P

        p = self.config.get("prior")
        if not p:
            return None
        if P.is_request(p):
            raise ValueError("the model's prior is not fitted yet (mapmatters.mlp.prior.fit_prior at training)")
        return P.prior_energy_fn(p, self.box)

    def neighbor_fn(self, capacity_multiplier: float = 1.25, skin: float = 0.0,
                    disable_cell_list: bool = True):
        """A jax-md sparse neighbour-list function for this model's cut-off and box (nm).

        ``skin`` (nm) > 0 makes ``update`` reuse the list until a bead has moved skin/2 (MD);
        for training on independent frames use 0. The cell list is off by default (faster
        for a few hundred beads on CPU, see TOOLCHAIN.md).
        """
        from jax_md import partition

        side = box_side(self.box)
        disp, _ = jax_space(side)
        if side is None:
            box = 1000.0  # unused without the cell list
            if not disable_cell_list:
                raise ValueError("cell list needs a periodic box")
        else:
            box = side
            if self.r_cut >= 0.5 * side.min():
                raise ValueError(f"r_cut {self.r_cut} nm must be below half the box ({side.min()} nm)")
        return partition.neighbor_list(
            disp, box, self.r_cut, dr_threshold=skin, capacity_multiplier=capacity_multiplier,
            disable_cell_list=disable_cell_list, format=partition.NeighborListFormat.Sparse,
            fractional_coordinates=False)


def build(config: dict, species, box=None, tensor_products: str = TP.MD) -> EnergyModel:
    """An :class:`EnergyModel` for a (completed or partial) model config.

    ``species`` (N,) int bead types; ``box`` None (free space) or an orthorhombic box (nm).
    ``config['n_species']`` defaults to ``max(species) + 1``. ``tensor_products``: how the
    equivariant tensor products are evaluated (:mod:`.tensor_product`; the same model either way:
    e3j's for MD, "sliced" for training).
    """
    species = np.asarray(species, dtype=np.int32)
    cfg = model_config(config)
    if not cfg["n_species"]:
        cfg["n_species"] = int(species.max()) + 1
    if species.max() >= cfg["n_species"]:
        raise ValueError("species id >= n_species")
    return EnergyModel(config=cfg, species=species, box=box_side(box),
                       tensor_products=tensor_products)


# ---------------------------------------------------------------- portable parameter files

def save_params(path, params, config: dict, extra: dict | None = None) -> None:
    """Write ``params`` (numpy pytree, pickled) and the model config (JSON) atomically.

    Layout: a pickle of ``{"format": "mapmatters-mlp/1", "config": <json str>,
    "params": <nested dicts of numpy arrays>, "extra": {...}}``; readable without jax.
    """
    import os

    path = Path(path)
    data = {"format": "mapmatters-mlp/1", "config": json.dumps(config, sort_keys=True),
            "params": _to_numpy(params), "extra": extra or {}}
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(data, fh, protocol=4)
    os.replace(tmp, path)


def load_params(path) -> tuple[Any, dict, dict]:
    """(params as numpy pytree, model config, extra) from :func:`save_params`."""
    with open(path, "rb") as fh:
        data = pickle.load(fh)
    if data.get("format") != "mapmatters-mlp/1":
        raise ValueError(f"{path}: not a mapmatters-mlp/1 parameter file")
    return data["params"], json.loads(data["config"]), data.get("extra", {})


def _to_numpy(tree):
    if isinstance(tree, dict) or hasattr(tree, "items"):
        return {k: _to_numpy(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_to_numpy(v) for v in tree)
    return np.asarray(tree)
