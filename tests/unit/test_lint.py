"""The linters CI runs: `snakemake --lint` on the workflow and ruff on the Python code."""
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

BIN = Path(sys.executable).parent


def test_snakemake_lint_is_clean():
    proc = subprocess.run([str(BIN / "snakemake"), "--lint"], cwd=ROOT, text=True, capture_output=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Congratulations, your workflow is in a good condition!" in out, out[-4000:]


def test_ruff_is_clean():
    proc = subprocess.run([str(BIN / "ruff"), "check", "src", "tests", "workflow", "benchmarks"], cwd=ROOT,
                          text=True, capture_output=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
