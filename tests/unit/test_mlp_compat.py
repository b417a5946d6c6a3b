"""The chemtrain-on-new-jax patches: still needed, applied idempotently, and sufficient."""
import importlib

import pytest

from mapmatters.mlp import compat

ok, why = compat.stack_available()
pytestmark = pytest.mark.skipif(not ok, reason=why)


@pytest.mark.parametrize("module,attr", [(m, a) for m, a, _, _ in compat.PATCHES])
def test_patch_still_needed_upstream(module, attr):
    """FAILS when upstream has the attribute again: then drop the patch from compat.PATCHES."""
    assert f"{module}.{attr}" in compat.missing_upstream(), (
        f"{module}.{attr} exists upstream now; remove its patch from mapmatters.mlp.compat")


def test_apply_is_idempotent_and_chemtrain_imports():
    first = compat.apply()
    second = compat.apply()
    assert first == second
    ct = compat.import_chemtrain()
    assert hasattr(ct.trainers, "ForceMatching")
    import jax
    import jax.tree_util
    assert jax.tree_map is jax.tree_util.tree_map
    nn = importlib.import_module("jax_md.nn")
    assert hasattr(nn, "InitFn")
