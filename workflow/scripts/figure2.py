"""Rule figure2: the (nu, L) sweep of MACE (three-site angle, two-site RDF)."""
import json

from mapmatters.figures.figure2 import plot_figure2
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    c, i = snakemake.params.cfg, snakemake.input

    def label(v, mapping):
        met = json.load(open(i.metrics[2 * c["variants"].index(v) + (mapping == c["rdf_mapping"])]))
        mc = met["model_config"]
        return f"ν={mc['correlation']}, L={mc['num_layers']} ({v})"

    a = {"title": f"{c['angle_mapping']}: MACE (ν, L) sweep", "reference": i.ref_a,
         "models": {label(v, c["angle_mapping"]): f for v, f in zip(c["variants"], i.models_a)}}
    b = {"title": f"{c['rdf_mapping']}: MACE (ν, L) sweep", "reference": i.ref_b,
         "models": {label(v, c["rdf_mapping"]): f for v, f in zip(c["variants"], i.models_b)}}
    plot_figure2(a, b, snakemake.output.png, snakemake.output.pdf,
                 title=f"{c['system']}: MACE correlation order ν and layers L ({snakemake.params.preset} preset)")
