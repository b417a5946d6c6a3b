"""Rule claims: the paper's findings as statistics, thresholds and verdicts (mapmatters.claims)."""
from mapmatters.claims import write_claims
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    p, o = snakemake.params, snakemake.output
    claims = write_claims(p.out, p.figures, p.systems, o.csv, o.md, o.confusion, preset=p.preset)
    for c in claims:
        print(f"[claims] {c.finding} {c.verdict}: {c.claim} ({c.statistic} = {c.value}, "
              f"threshold {c.threshold}) {c.note}")
