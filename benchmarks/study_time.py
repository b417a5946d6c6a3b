#!/usr/bin/env python
"""Where a study's time went, from the benchmark files its rules wrote.

    .venv/bin/python benchmarks/study_time.py --results results/default [--system polyalanine]

Every rule writes ``benchmarks/[<system>/]<rule>_<wildcards>.tsv`` (snakemake's ``benchmark:``:
wall seconds ``s`` and ``cpu_time``). This script groups them by system and rule and prints, per
group, the number of jobs, the summed wall time and the summed CPU time (minutes), and per system
the totals and the span from the first job's start to the last job's end (file times). The span is
the elapsed time of the run only when the system was made by one uninterrupted snakemake call;
the summed wall time is what the jobs would take one after the other. Jobs that shared the cores
with other work have inflated wall times: say so when you quote them.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def rule_names(rules_dir: Path = ROOT / "workflow" / "rules") -> list[str]:
    """Rule names declared in the workflow, longest first (so prefixes resolve to the longest)."""
    names = set()
    for f in rules_dir.glob("*.smk"):
        names.update(re.findall(r"^(?:rule|checkpoint)\s+(\w+)\s*:", f.read_text(), flags=re.M))
    return sorted(names, key=len, reverse=True)


def rule_of(stem: str, rules: list[str]) -> str:
    """The rule a benchmark file stem belongs to (``mlp_md_mace_core`` -> ``mlp_md``)."""
    for r in rules:
        if stem == r or stem.startswith(r + "_"):
            return r
    return stem


def job_table(bench_dir: Path, rules: list[str]) -> pd.DataFrame:
    """One row per benchmark file: system ('' for rules across systems), rule, wall and CPU seconds,
    and the file's time (the job's end)."""
    rows = []
    for f in sorted(bench_dir.rglob("*.tsv")):
        d = pd.read_csv(f, sep="\t")
        if d.empty:
            continue
        rel = f.relative_to(bench_dir)
        system = rel.parts[0] if len(rel.parts) > 1 else ""
        rows.append({"system": system, "rule": rule_of(f.stem, rules), "wall_s": float(d["s"].iloc[-1]),
                     "cpu_s": float(d["cpu_time"].iloc[-1]) if "cpu_time" in d else float("nan"),
                     "end": f.stat().st_mtime})
    return pd.DataFrame(rows, columns=["system", "rule", "wall_s", "cpu_s", "end"])


def summarise(jobs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (system, rule): jobs, wall and CPU minutes; per system: their sums and the span (min)."""
    by_rule = (jobs.groupby(["system", "rule"])
               .agg(jobs=("wall_s", "size"), wall_min=("wall_s", "sum"), cpu_min=("cpu_s", "sum"))
               .reset_index())
    by_rule[["wall_min", "cpu_min"]] /= 60.0
    by_system = by_rule.groupby("system")[["jobs", "wall_min", "cpu_min"]].sum()
    first = (jobs["end"] - jobs["wall_s"]).groupby(jobs["system"]).min()
    by_system["span_min"] = (jobs.groupby("system")["end"].max() - first) / 60.0
    return by_rule.sort_values(["system", "wall_min"], ascending=[True, False]), by_system.reset_index()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, required=True, help="a results/<preset> folder")
    ap.add_argument("--system", help="only this system (and not the rules across systems)")
    a = ap.parse_args(argv)
    bench = a.results / "benchmarks"
    if not bench.is_dir():
        print(f"{bench}: no benchmark folder; run the workflow first", file=sys.stderr)
        return 2
    jobs = job_table(bench, rule_names())
    if a.system:
        jobs = jobs[jobs["system"] == a.system]
    if jobs.empty:
        print(f"{bench}: no benchmark files" + (f" for system {a.system}" if a.system else ""), file=sys.stderr)
        return 2
    by_rule, by_system = summarise(jobs)
    pd.set_option("display.width", 120)
    print(by_rule.to_string(index=False, float_format="%.1f"))
    print()
    print(by_system.to_string(index=False, float_format="%.1f"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
