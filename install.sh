#!/usr/bin/env bash
# Set up everything mapmatters needs: GROMACS, VOTCA and LAMMPS (Debian/Ubuntu apt, when
# missing) and the Python environment .venv (uv, exact versions from requirements/lock.txt).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '[install] %s\n' "$*"; }

# 1. Simulation engines -------------------------------------------------------------------
declare -A pkg_of=([gmx]=gromacs [csg_fmatch]=votca [lmp]=lammps)
missing=()
for tool in gmx csg_fmatch lmp; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${pkg_of[$tool]}")
done
if ((${#missing[@]})); then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        say "installing from apt: ${missing[*]}"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        cat >&2 <<MSG
[install] missing: ${missing[*]} and there is no apt-get here.
Install these yourself, put them on PATH, and run ./install.sh again:
  - GROMACS 2022.x (command 'gmx', mixed precision, with oplsaa.ff)
  - VOTCA 2022.x   (commands 'csg_fmatch', 'csg_call'; package votca-csg)
  - LAMMPS (command 'lmp', with the MOLECULE package: bond/angle/dihedral/pair table styles)
On a cluster: 'module load gromacs votca lammps' or the conda environments in envs/.
MSG
        exit 1
    fi
fi
say "gmx: $(gmx --version 2>/dev/null | awk '/GROMACS version/ {print $3}')"

# 2. Python environment -------------------------------------------------------------------
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" - <<'PYCHK' || { echo "[install] Python 3.11 is required (found $("$PY" --version))" >&2; exit 1; }
import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)
PYCHK
if ! command -v uv >/dev/null 2>&1; then
    say "installing uv"
    "$PY" -m pip install -q "uv==0.13.8"
fi
UV=$(command -v uv || echo "$PY -m uv")
[ -x .venv/bin/python ] || $UV venv -q --python "$PY" .venv
say "syncing .venv with requirements/lock.txt"
$UV pip install -q -p .venv/bin/python -r requirements/lock.txt --override requirements/overrides.txt
$UV pip install -q -p .venv/bin/python --no-deps -e .
# bytecode once, here: uv does not write it, and where PYTHONDONTWRITEBYTECODE is set (CI images,
# containers) every job would otherwise recompile jax, flax, jax-md, chemtrain, mlip, ... from
# source on import (importing jax, jax-md, chemtrain and mlip: 33 s -> 13 s, measured on the
# 2-core machine with another job running; every MLP job pays it)
say "compiling the environment's bytecode"
SITE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
.venv/bin/python -m compileall -q -j 0 "$SITE" >/dev/null || true
# 3. GPU nodes: MAPMATTERS_GPU=cuda12 (or cuda13) adds the CUDA plugin of the locked jax -----
if [ -n "${MAPMATTERS_GPU:-}" ]; then
    JAXV=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('jax'))")
    say "adding jax[$MAPMATTERS_GPU]==$JAXV (CUDA wheels from PyPI, a few GB)"
    $UV pip install -q -p .venv/bin/python "jax[$MAPMATTERS_GPU]==$JAXV" --override requirements/overrides.txt
    .venv/bin/python -c "import jax; print('[install] jax devices:', jax.devices())"
fi
say "ready: .venv/bin/snakemake, .venv/bin/pytest"
