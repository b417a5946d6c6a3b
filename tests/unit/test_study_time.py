"""benchmarks/study_time.py: benchmark files grouped by system and rule, totals and span."""
import importlib.util
import os

import pytest
from conftest import ROOT

spec = importlib.util.spec_from_file_location("study_time", ROOT / "benchmarks" / "study_time.py")
study_time = importlib.util.module_from_spec(spec)
spec.loader.exec_module(study_time)


def test_rule_names_resolve_to_the_longest_prefix():
    rules = study_time.rule_names()
    assert {"mlp_md", "mlp_train", "reference_production", "mlp_nve_scan"} <= set(rules)
    assert study_time.rule_of("mlp_md_mace_core", rules) == "mlp_md"
    assert study_time.rule_of("reference_production", rules) == "reference_production"
    assert study_time.rule_of("classical_run_analysis_two-site_0", rules) == "classical_run_analysis"
    assert study_time.rule_of("table1", rules) == "table1"


def test_sums_and_span_from_hand_written_files(tmp_path):
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    jobs = {"sys/mlp_md_mace_a.tsv": (120.0, 60.0, 1000), "sys/mlp_md_mace_b.tsv": (60.0, 30.0, 1300),
            "sys/mlp_train_mace_a.tsv": (300.0, 290.0, 900), "figure3.tsv": (6.0, 3.0, 1400)}
    for name, (s, cpu, end) in jobs.items():
        f = tmp_path / name
        f.parent.mkdir(exist_ok=True)
        f.write_text(header + f"{s}\t0:00:00\t1\t1\t1\t1\t0\t0\t50\t{cpu}\n")
        os.utime(f, (end, end))
    t = study_time.job_table(tmp_path, study_time.rule_names())
    by_rule, by_system = study_time.summarise(t)
    md = by_rule[(by_rule["system"] == "sys") & (by_rule["rule"] == "mlp_md")].iloc[0]
    assert md["jobs"] == 2 and md["wall_min"] == pytest.approx(3.0) and md["cpu_min"] == pytest.approx(1.5)
    s = by_system.set_index("system").loc["sys"]
    assert s["jobs"] == 3 and s["wall_min"] == pytest.approx(8.0)
    # first start: the training job, 900 - 300 = 600 s; last end 1300 s: 700 s = 11.67 min
    assert s["span_min"] == pytest.approx(700 / 60)
    assert by_system.set_index("system").loc["", "jobs"] == 1
