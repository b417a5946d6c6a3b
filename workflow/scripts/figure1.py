"""Rule figure1: hexane Figure 1 from the reference and model results."""
from mapmatters.figures.figure1 import plot_figure1
from mapmatters.rulelog import rule_log



def label_of(model, bonded_file):
    if not model.startswith("mlp/"):
        return model
    variant = model.removeprefix("mlp/")
    name = variant.split("-")[0].replace("mace", "MACE").replace("nequip", "NequIP")
    extra = ", nearest neighbour" if bonded_file == "nn_runs.csv" else ""
    return f"{name} ({variant}{extra})"


with rule_log(snakemake.log[0]):
    p = snakemake.params
    columns = []
    for m in p.mappings:
        base = f"{p.out}/{p.system}"
        columns.append({"mapping": m, "title": f"{m} model",
                        "reference_bonded": f"{base}/analysis/reference/{m}/bonded.csv",
                        "reference_rdf": f"{base}/analysis/reference/{m}/rdf.csv",
                        "models": {label_of(model, f): {"bonded": f"{base}/{model}/{m}/{f}",
                                                        "rdf": f"{base}/{model}/{m}/rdf_runs.csv"}
                                   for model, f in p.models[m].items()}})
    plot_figure1(columns, snakemake.output.png, snakemake.output.pdf,
                 title=f"{p.system}: reference vs CG models ({p.preset} preset)")
