"""The ci preset through profiles/slurm on a real one-node SLURM cluster (slurmctld + slurmd).

Every job goes through sbatch; the production job is cancelled mid-run (scancel) and the
profile's `retries` resubmits it, and the resubmitted job continues from the GROMACS
checkpoint. Needs root and Debian's slurm packages (tests/slurm/cluster.sh installs them).
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.slurm, pytest.mark.integration]
CLUSTER = ROOT / "tests" / "slurm" / "cluster.sh"
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("starting slurmctld/slurmd/munged needs root")
    if not (shutil.which("slurmctld") or shutil.which("apt-get")):
        pytest.skip("no SLURM and no apt-get to install it")
    if not shutil.which("gmx"):
        pytest.skip("needs GROMACS (./install.sh)")
    d = tmp_path_factory.mktemp("slurm")
    subprocess.run(["bash", str(CLUSTER), "start", str(d)], check=True)
    env = {**os.environ, "SLURM_CONF": str(d / "slurm.conf")}
    yield env
    subprocess.run(["bash", str(CLUSTER), "stop", str(d)], check=False)


def _squeue(env):
    out = subprocess.run(["squeue", "-h", "-o", "%i|%k|%T|%M"], env=env, text=True, capture_output=True).stdout
    return [line.split("|") for line in out.splitlines() if line.strip()]


def test_ci_preset_runs_through_slurm_profile(slurm_env, tmp_path):
    results = tmp_path / "results"
    # a longer production with frequent checkpoints, so it can be cancelled mid-run
    extra = tmp_path / "longer.yaml"
    extra.write_text("reference:\n  hexane:\n    production_ps: 15\n    checkpoint_minutes: 0.05\n")
    args = [SNAKEMAKE, "--profile", "profiles/slurm", "--configfile", "config/presets/ci.yaml", str(extra),
            "--config", f"results={results}",
            "--slurm-init-seconds-before-status-checks", "5", "--jobs", "4", "--retries", "1",
            # one chain of every stage (reference, mapping, VOTCA + LAMMPS, chemtrain + JAX-MD,
            # analyses) for one mapping: the SLURM path is the same for every system, mapping and model
            f"{results}/ci/hexane/reference/summary.json",
            f"{results}/ci/hexane/classical/two-site/summary.json",
            f"{results}/ci/hexane/mlp/mace-nu1-L1-N20/two-site/summary.json"]
    out = open(tmp_path / "snakemake.out", "w")
    proc = subprocess.Popen(args, cwd=ROOT, env=slurm_env, stdout=out, stderr=subprocess.STDOUT, text=True)
    cancelled = None
    work = results / "ci/hexane/reference/work/production"
    deadline = time.time() + 2400
    while proc.poll() is None and time.time() < deadline:
        if cancelled is None and (work / "prod.cpt").exists() and (work / "prod.trr").exists() \
                and (work / "prod.trr").stat().st_size > 1_500_000:   # ~3 of 15 ps
            for jobid, comment, state, _ in _squeue(slurm_env):
                if comment.startswith("rule_reference_production") and state == "RUNNING":
                    subprocess.run(["scancel", jobid], env=slurm_env, check=True)
                    cancelled = jobid
        time.sleep(1)
    if proc.poll() is None:
        proc.kill()
        pytest.fail("snakemake via SLURM did not finish in 40 minutes")
    out.close()
    text = (tmp_path / "snakemake.out").read_text()
    assert proc.returncode == 0, text[-6000:]
    assert cancelled is not None, "the production job was never seen running"

    # every non-local job was submitted with sbatch and ran inside a SLURM allocation
    submitted = text.count("has been submitted with SLURM jobid")
    logs = sorted((results / "ci/logs").rglob("*.log"))
    assert submitted >= len(logs) >= 12
    assert {"mlp_train", "mlp_md", "mlp_analysis"} <= {log.name.split("_mace")[0] for log in logs}
    for log in logs:
        assert " slurm job " in log.read_text(), f"{log} did not run under SLURM"

    # the cancelled job was reported with its SLURM state, resubmitted, and the new job resumed
    # from the GROMACS checkpoint (snakemake clears the failed attempt's rule log; the SLURM
    # log of the cancelled job stays in .snakemake/slurm_logs)
    assert f"SLURM-job '{cancelled}' failed, SLURM status is: 'CANCELLED'" in text
    assert "Trying to restart job" in text
    prod_log = (results / "ci/logs/hexane/reference_production.log").read_text()
    assert "resuming production" in prod_log
    assert f"slurm job {cancelled} " not in prod_log
    summary = json.loads((results / "ci/hexane/reference/summary.json").read_text())
    assert summary["n_frames"] == 151                      # 15 ps every 0.1 ps, nothing lost or doubled
    for model in ("classical", "mlp/mace-nu1-L1-N20"):
        assert json.loads((results / f"ci/hexane/{model}/two-site/summary.json").read_text())
