"""Compatibility patches so that chemtrain 0.2.0 runs on the jax that mlip needs.

chemtrain 0.2.0 (the authors' training framework) was written for jax <= 0.4.37; mlip 0.2.5
(InstaDeep's MACE / NequIP) needs jax >= 0.6.2. With jax 0.10.2 and jax-md 0.2.29 chemtrain
fails at import time because names it imports were removed upstream. :func:`apply` puts
those names back, idempotently, and must run before ``chemtrain`` (or ``jax_md_mod``,
``jax_sgmc``) is imported; :func:`import_chemtrain` does both.

Each entry of :data:`PATCHES` is ``(module, attribute, replacement, why)``. A patch only
fills a hole: if the attribute exists upstream it is left alone. The unit test
``tests/unit/test_mlp_compat.py`` asserts each attribute is still missing upstream, so the
test fails (on purpose) the day a patch becomes dead code and can be dropped.

Found by importing and running ``chemtrain.trainers.ForceMatching`` end to end
(train, evaluate, predict, save/load):

- ``jax.tree_map``, ``jax.tree_leaves``, ``jax.tree_flatten``, ``jax.tree_unflatten``,
  ``jax.tree_structure`` (removed in jax 0.6): ``from jax import tree_map`` in
  chemtrain.util / trainers.base / learn.*, ``jax.tree_unflatten`` etc. in jax_sgmc.
- ``jax_md.nn.InitFn`` (gone from jax-md 0.2.29): a type annotation evaluated at import
  time in jax_md_mod.model.neural_networks.

Not patched, because nothing on our code path reaches them (documented so nobody is
surprised): ``jax.experimental.host_callback`` (removed in jax 0.4.35; imported only by
``jax_sgmc.io`` and ``jax_sgmc.scheduler``, which chemtrain's force matching never imports)
and ``jax.random.KeyArray`` (``jax_md_mod`` sets it itself).

Side effect of importing chemtrain worth knowing: ``jax_md_mod`` replaces
``jax_md.partition.is_box_valid`` and ``PartitionError`` globally. We only use scalar or
1-D (orthorhombic) boxes, for which both versions agree.
"""
from __future__ import annotations

import importlib
import typing

_APPLIED: list[str] = []


def _tree_util(name):
    def get():
        import jax.tree_util

        return getattr(jax.tree_util, name)
    return get


def _init_fn_type():
    # jax_md.nn.InitFn was `Callable[..., PyTree]`: init(key, *example_inputs) -> params
    return typing.Callable[..., typing.Any]


#: (module, attribute, factory of the replacement, reason)
PATCHES: list[tuple[str, str, typing.Callable[[], object], str]] = [
    *[("jax", name, _tree_util(name), "removed in jax 0.6; chemtrain and jax_sgmc import it")
      for name in ("tree_map", "tree_leaves", "tree_flatten", "tree_unflatten", "tree_structure")],
    ("jax_md.nn", "InitFn", _init_fn_type,
     "removed in jax-md 0.2.29; jax_md_mod annotates with it at import time"),
]


def missing_upstream() -> list[str]:
    """``module.attribute`` names of :data:`PATCHES` that the installed packages lack
    upstream (whether or not :func:`apply` has filled them in this process)."""
    out = []
    for module, attr, _, _ in PATCHES:
        mod = importlib.import_module(module)
        if f"{module}.{attr}" in _APPLIED or not hasattr(mod, attr):
            out.append(f"{module}.{attr}")
    return out


def apply() -> list[str]:
    """Apply every patch that is needed; return the names patched by this process so far.

    Idempotent: a second call changes nothing. Safe to call before or after jax is imported,
    but it must run before chemtrain is imported.
    """
    for module, attr, factory, _ in PATCHES:
        name = f"{module}.{attr}"
        mod = importlib.import_module(module)
        if hasattr(mod, attr):
            continue
        setattr(mod, attr, factory())
        _APPLIED.append(name)
    return list(_APPLIED)


def applied() -> list[str]:
    """Names patched in this process."""
    return list(_APPLIED)


def import_chemtrain():
    """Apply the patches, then import and return ``chemtrain`` (with ``trainers`` loaded)."""
    apply()
    import chemtrain  # noqa: F401
    import chemtrain.data.preprocessing  # noqa: F401
    import chemtrain.trainers  # noqa: F401

    return chemtrain


def stack_available() -> tuple[bool, str]:
    """Whether the ML stack (jax, jax-md, mlip, chemtrain) imports; with the reason if not."""
    try:
        import jax  # noqa: F401
        import jax_md  # noqa: F401
        import mlip  # noqa: F401
        apply()
        import chemtrain.trainers  # noqa: F401
    except Exception as exc:  # pragma: no cover - depends on the environment
        return False, f"ML stack not importable ({type(exc).__name__}: {exc}); " \
                      "install the mlip/chemtrain/jax stack (see mapmatters.mlp docs)"
    return True, ""
