"""What the workflow computes, declared once, and every cross-check of the configuration.

The ``study`` block of the config is the single sheet that decides what is computed (like the
sample sheet of a Snakemake catalogue workflow)::

    study:
      hexane:                          # a system under `systems`
        classical: [four-site, three-site]      # mappings that get a classical (VOTCA) model
        mlp:                                    # cross products mapping x variant that are trained
          - {mappings: [four-site, three-site], variants: [mace-nu2-L2-N20]}

Every mapping of a system is mapped and analysed on the reference. Figures and tables only
*select* from these results: a figure that shows a model the study does not compute is a
configuration error, never a reason to train it.

Everything here is plain Python on the validated config dict, so unit tests reach it without
Snakemake; ``workflow/rules/common.smk`` turns :class:`InputError` into a WorkflowError.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .system import load_system

CONFIG = "config (config/config.yaml + --configfile/--config overrides)"

# reference MD keys each system kind needs beyond the common ones (the schema lists all keys)
REFERENCE_KEYS = {
    "liquid": ("insert",),
    "solvated": ("npt_equilibration_ps", "tau_p_ps", "pressure_bar"),
}


@dataclass
class Study:
    """The resolved study: systems, their mappings, and which models are built for which."""

    config: dict
    systems: dict[str, dict]                       # name -> loaded system YAML
    classical: dict[str, list[str]] = field(default_factory=dict)   # system -> mappings
    mlp: list[tuple[str, str, str]] = field(default_factory=list)   # (system, variant, mapping)
    nve: list[tuple[str, str, str]] = field(default_factory=list)   # models with an NVE time-step scan
    metad: list[tuple[str, str, str]] = field(default_factory=list)  # models with a chirality metadynamics
    umbrella: list[tuple[str, str, str]] = field(default_factory=list)  # metad models checked by umbrella + MBAR

    def mappings(self, system: str) -> list[str]:
        return list(self.systems[system]["mappings"])

    def mlp_models(self, system: str | None = None) -> list[tuple[str, str, str]]:
        return [t for t in self.mlp if system is None or t[0] == system]

    def nve_models(self, system: str | None = None) -> list[tuple[str, str, str]]:
        return [t for t in self.nve if system is None or t[0] == system]

    def metad_models(self, system: str | None = None) -> list[tuple[str, str, str]]:
        return [t for t in self.metad if system is None or t[0] == system]

    def umbrella_models(self, system: str | None = None) -> list[tuple[str, str, str]]:
        return [t for t in self.umbrella if system is None or t[0] == system]

    def has_mlp(self, system: str, variant: str, mapping: str) -> bool:
        return (system, variant, mapping) in self.mlp

    def figure_enabled(self, name: str) -> bool:
        """A figure or table is made when its system is part of this run."""
        fig = self.config["figures"].get(name)
        return fig is not None and fig["system"] in self.systems

    def has_analysis(self, system: str, name: str) -> bool:
        return name in self.systems[system]["analyses"]

    def figure3_si_systems(self) -> list[str]:
        """The systems of the SI Ramachandran panel that are part of this run."""
        fig = self.config["figures"].get("figure3_si") or {"systems": []}
        return [s for s in fig["systems"] if s in self.systems]


def _err(msg: str, key: str, fix: str) -> InputError:
    return InputError(msg, file=CONFIG, key=key, fix=fix)


def load_study(config: dict) -> Study:
    """Load every system of ``config['systems']`` and check the config against them.

    ``config`` is the merged config; its ``like`` entries are resolved here (as in common.smk)."""
    from .config import resolve_like

    config = resolve_like(config)
    systems = {}
    dropped = {name for name, path in config["systems"].items() if path is None}
    for name, path in config["systems"].items():
        if path is None:            # a preset drops a system of config.yaml with `name: null`
            continue
        if not Path(path).exists():
            raise _err(f"system file '{path}' does not exist.", f"systems.{name}",
                       "give the path of a system YAML, relative to the repository root.")
        data = load_system(path)
        if data["name"] != name:
            raise InputError(f"key 'name' is '{data['name']}' but config 'systems' lists it as '{name}'.",
                             file=str(path), key="name", fix="use the same name in both places.")
        systems[name] = data
    study = Study(config=config, systems=systems)
    for name, system in systems.items():
        _check_reference(config, name, system)
    for name in config.get("study", {}):
        if name not in systems and name not in dropped:
            raise _err(f"'study.{name}' names a system that is not under 'systems'.", f"study.{name}",
                       f"add it under 'systems' or remove the block (systems: {sorted(systems)}).")
    for name in systems:
        decl = config.get("study", {}).get(name) or {}
        study.classical[name] = _mappings(decl.get("classical", []), systems[name], f"study.{name}.classical")
        if study.classical[name] and name not in config["classical"]:
            raise _err(f"'study.{name}.classical' asks for classical models but 'classical.{name}' "
                       "(fit and MD settings) is missing.", f"classical.{name}",
                       "copy the hexane block under 'classical' and adapt it.")
        for i, block in enumerate(decl.get("mlp", [])):
            key = f"study.{name}.mlp[{i}]"
            maps = _mappings(block["mappings"], systems[name], f"{key}.mappings")
            known = config["mlp"].get(name, {}).get("variants", {})
            for v in block["variants"]:
                if v not in known:
                    raise _err(f"'{key}.variants' names MLP variant '{v}', which is not defined under "
                               f"'mlp.{name}.variants'.", f"{key}.variants",
                               f"define it there or use one of {sorted(known)}.")
                study.mlp += [(name, v, m) for m in maps]
    study.mlp = list(dict.fromkeys(study.mlp))
    study.nve = _model_runs(study, "nve_scan", "scans MLP variant '{v}' on mapping '{m}'", "NVE scans",
                            "time steps, chains, length")
    study.metad = _model_runs(study, "metad", "runs metadynamics on MLP variant '{v}' of mapping '{m}'",
                              "chirality metadynamics", "walkers, hills, length")
    study.umbrella = _model_runs(study, "umbrella", "checks MLP variant '{v}' of mapping '{m}' by umbrella sampling",
                                 "umbrella sampling", "windows, spring, length")
    for name, v, m in study.umbrella:
        if (name, v, m) not in study.metad:
            raise _err(f"'study.{name}.umbrella' checks the metadynamics barrier of ({m}, {v}), which "
                       f"'study.{name}.metad' does not run.", f"study.{name}.umbrella",
                       f"add ({m}, {v}) to 'study.{name}.metad' or drop it here.")
    _check_figures(study)
    return study


def _model_runs(study: Study, key: str, phrase: str, what: str, settings: str) -> list[tuple[str, str, str]]:
    """(system, variant, mapping) of the extra runs ``study.<system>.<key>`` declares on trained
    models (the NVE scan, metadynamics; ``phrase`` names one in errors, with {v} and {m}): each
    must be a model of ``study.<system>.mlp``, and
    ``mlp.<system>.<key>`` must hold the run's settings."""
    out = []
    for name, system in study.systems.items():
        decl = study.config.get("study", {}).get(name) or {}
        mine = []
        for i, block in enumerate(decl.get(key, [])):
            where = f"study.{name}.{key}[{i}]"
            for m in _mappings(block["mappings"], system, f"{where}.mappings"):
                for v in block["variants"]:
                    if not study.has_mlp(name, v, m):
                        raise _err(f"'{where}' {phrase.format(v=v, m=m)}, which "
                                   f"'study.{name}.mlp' does not compute.", where,
                                   f"add ({m}, {v}) to 'study.{name}.mlp' or drop it here.")
                    mine.append((name, v, m))
        if mine and key not in study.config["mlp"][name]:
            raise _err(f"'study.{name}.{key}' asks for {what} but 'mlp.{name}.{key}' ({settings}) is missing.",
                       f"mlp.{name}.{key}", "add it (see the alanine block of config/config.yaml).")
        out += mine
    return list(dict.fromkeys(out))


def _mappings(names, system: dict, key: str) -> list[str]:
    known = list(system["mappings"])
    for m in names:
        if m not in known:
            raise _err(f"'{key}' names '{m}', which is not a mapping of system '{system['name']}'.", key,
                       f"use mappings of that system: {', '.join(known)}.")
    return list(names)


def _check_reference(config: dict, name: str, system: dict) -> None:
    ref = config["reference"].get(name)
    if ref is None:
        raise _err(f"key 'reference.{name}' is missing.", f"reference.{name}",
                   "add the reference MD parameters of this system (copy a block in config/config.yaml).")
    for k in REFERENCE_KEYS[system["kind"]]:
        if k not in ref:
            raise _err(f"'reference.{name}.{k}' is missing; a '{system['kind']}' system needs it.",
                       f"reference.{name}.{k}", "add it (see workflow/schemas/config.schema.yaml).")
    if "start" in ref:
        named = system["molecule"].get("start_conformations") or {}
        if system["kind"] != "solvated" or ref["start"] not in named:
            raise _err(f"'reference.{name}.start' is '{ref['start']}', which is not one of the system's "
                       f"molecule.start_conformations ({', '.join(named) or 'none'}).", f"reference.{name}.start",
                       "name a start conformation of the system YAML, or drop 'start'.")
    steps = ref["production_ps"] / ref["dt_ps"]
    if abs(steps - round(steps)) > 1e-6 or round(steps) % ref["output_every_steps"]:
        raise _err(f"production_ps / dt_ps = {steps:g} steps is not a multiple of output_every_steps "
                   f"({ref['output_every_steps']}).", f"reference.{name}",
                   "choose a production length that is a whole number of output intervals.")


def _check_figures(study: Study) -> None:
    f = study.config["figures"]
    sel = {
        "figure1": [(v, m) for m in f["figure1"]["mappings"] for v in f["figure1"]["mlp_variants"]],
        "figure2": [(v, m) for m in (f["figure2"]["angle_mapping"], f["figure2"]["rdf_mapping"])
                    for v in f["figure2"]["variants"]],
        "table1": [(v, m) for m in f["table1"]["mappings"] for v in f["table1"]["variants"]],
    }
    for fig, pairs in sel.items():
        system = f[fig]["system"]
        if system not in study.systems:
            continue
        for v, m in pairs:
            _mappings([m], study.systems[system], f"figures.{fig}")
            if not study.has_mlp(system, v, m):
                raise _err(f"'figures.{fig}' shows MLP variant '{v}' on mapping '{m}', which "
                           f"'study.{system}.mlp' does not compute.", f"figures.{fig}",
                           f"add ({m}, {v}) to 'study.{system}.mlp' or remove it from the figure "
                           "(figures select from results, they do not decide what is trained).")
    _check_ramachandran_figures(study)
    _check_helix_figures(study)
    f1 = f["figure1"]
    if f1["system"] in study.systems:
        for m in f1["mappings"]:
            if m not in study.classical.get(f1["system"], []):
                raise _err(f"'figures.figure1' shows mapping '{m}', which has no classical model in "
                           f"'study.{f1['system']}.classical'.", "figures.figure1.mappings",
                           f"add '{m}' to 'study.{f1['system']}.classical' or drop it from Figure 1.")


def _check_ramachandran_figures(study: Study) -> None:
    f = study.config["figures"]
    f3 = f.get("figure3")
    if f3 and f3["system"] in study.systems:
        s = f3["system"]
        if not study.has_analysis(s, "ramachandran"):
            raise _err(f"'figures.figure3' shows system '{s}', whose analyses do not include 'ramachandran'.",
                       "figures.figure3.system", f"add ramachandran to 'analyses' in the system YAML of '{s}'.")
        _mappings([f3["reference_mapping"]], study.systems[s], "figures.figure3.reference_mapping")
        for m in [m for row in f3["rows"] for m in row]:
            _mappings([m], study.systems[s], "figures.figure3.rows")
            if not study.has_mlp(s, f3["variant"], m):
                raise _err(f"'figures.figure3' shows MLP variant '{f3['variant']}' on mapping '{m}', which "
                           f"'study.{s}.mlp' does not compute.", "figures.figure3.rows",
                           f"add ({m}, {f3['variant']}) to 'study.{s}.mlp' or remove it from the figure.")
    si = f.get("figure3_si")
    for s in study.figure3_si_systems():
        if not study.has_analysis(s, "ramachandran"):
            raise _err(f"'figures.figure3_si' shows system '{s}', whose analyses do not include 'ramachandran'.",
                       "figures.figure3_si.systems", f"add ramachandran to 'analyses' in the system YAML of '{s}'.")
        _mappings([si["reference_mapping"]], study.systems[s], "figures.figure3_si.reference_mapping")
        if not [m for (_, v, m) in study.mlp_models(s) if v == si["variant"]]:
            raise _err(f"'figures.figure3_si' shows system '{s}', but 'study.{s}.mlp' has no model of variant "
                       f"'{si['variant']}'.", "figures.figure3_si",
                       f"declare models of '{si['variant']}' under 'study.{s}.mlp' or drop '{s}' from the figure.")


def _check_helix_figures(study: Study) -> None:
    """Figures 5 and 6 (and 6's SI panel) show a system with the helix analysis, and Figure 6
    only models the study computes."""
    f = study.config["figures"]
    for name in ("figure5", "figure6", "figure6_si"):
        fig = f.get(name)
        if not fig or fig["system"] not in study.systems:
            continue
        s = fig["system"]
        if not study.has_analysis(s, "helix"):
            raise _err(f"'figures.{name}' shows system '{s}', whose analyses do not include 'helix'.",
                       f"figures.{name}.system", f"add helix to 'analyses' in the system YAML of '{s}'.")
        if name == "figure5":
            _mappings([fig["reference_mapping"]], study.systems[s], f"figures.{name}.reference_mapping")
            continue
        for p in fig["panels"]:
            _mappings([p["mapping"]], study.systems[s], f"figures.{name}.panels")
            if not study.has_mlp(s, p["variant"], p["mapping"]):
                raise _err(f"'figures.{name}' shows MLP variant '{p['variant']}' on mapping '{p['mapping']}', "
                           f"which 'study.{s}.mlp' does not compute.", f"figures.{name}.panels",
                           f"add ({p['mapping']}, {p['variant']}) to 'study.{s}.mlp' or remove the panel.")
    if f.get("figure6") and f["figure6"]["system"] in study.systems:
        f5 = f.get("figure5")
        if not f5 or f5["system"] != f["figure6"]["system"]:
            raise _err("'figures.figure6' draws the reference panel of 'figures.figure5', which is missing or "
                       "shows another system.", "figures.figure5",
                       "set figures.figure5.system to Figure 6's system.")


def seeds(study: Study, seed_for) -> dict:
    """Every seed of the run, per system and stage (``seed_for(*labels)`` derives one)."""
    out = {}
    for s in study.systems:
        out[s] = {stage: seed_for(s, stage) for stage in ("insert", "equilibrate", "production")}
        for m in study.classical[s]:
            n = study.config["classical"][s]["md"]["n_runs"]
            out[s][f"classical/{m}"] = [seed_for(s, m, "classical", str(r)) for r in range(n)]
    for s, v, m in study.mlp:
        # MD run k uses (md * 1000 + k) as its JAX PRNG seed (recorded per run in md/md.json)
        out[s][f"mlp/{v}/{m}"] = {"train": seed_for(s, m, v, "train"), "md": seed_for(s, m, v, "md")}
    return out


def targets(study: Study, out: str, system: str | None = None) -> list[str]:
    """Every final output of the run (or of one system), in a stable order.

    Per mapping: the CG dataset's checks and the reference distributions; per declared model its
    summary; the figures and tables whose system is part of the run (all of them when
    ``system`` is None).
    """
    files = []
    for s in ([system] if system else study.systems):
        files.append(f"{out}/{s}/reference/summary.json")
        for m in study.mappings(s):
            files += [f"{out}/{s}/cg/{m}.stats.json", f"{out}/{s}/analysis/reference/{m}/distributions.png",
                      f"{out}/{s}/diagnostics/{m}.json"]
        for m in study.classical[s]:
            files += [f"{out}/{s}/classical/{m}/summary.json", f"{out}/{s}/classical/{m}/potentials.png"]
        if study.classical[s]:
            files.append(f"{out}/tables/classical_{s}.csv")
        for _, v, m in study.mlp_models(s):
            files += [f"{out}/{s}/mlp/{v}/{m}/summary.json", f"{out}/{s}/analysis/reference/{m}/permutation.json"]
        if study.nve_models(s):
            files += [f"{out}/figures/nve_scan_{s}.png", f"{out}/figures/nve_scan_{s}.pdf",
                      f"{out}/tables/nve_scan_{s}.csv"]
        for _, v, m in study.metad_models(s):
            files += [f"{out}/{s}/mlp/{v}/{m}/metad/hills.h5", f"{out}/{s}/mlp/{v}/{m}/metad/metad.json"]
        for _, v, m in study.umbrella_models(s):
            files += [f"{out}/{s}/mlp/{v}/{m}/metad/umbrella.h5", f"{out}/{s}/mlp/{v}/{m}/metad/umbrella.json"]
        if study.metad_models(s):
            files += [f"{out}/tables/chirality_{s}.csv", f"{out}/figures/figure4_{s}.png",
                      f"{out}/figures/figure4_{s}.pdf"]
        if study.has_analysis(s, "helix"):
            files += [f"{out}/{s}/analysis/reference/{m}/helix.json" for m in study.mappings(s)]
            files += [f"{out}/{s}/mlp/{v}/{m}/helix.json" for _, v, m in study.mlp_models(s)]
            files.append(f"{out}/tables/helix_{s}.csv")
        if study.has_analysis(s, "ramachandran"):
            files += [f"{out}/{s}/analysis/reference/{m}/ramachandran.json" for m in study.mappings(s)]
            files += [f"{out}/{s}/mlp/{v}/{m}/ramachandran.json" for _, v, m in study.mlp_models(s)]
    figs = study.config["figures"]

    def mine(name):
        return study.figure_enabled(name) and (system is None or figs[name]["system"] == system)

    if mine("figure1"):
        files += [f"{out}/figures/figure1.png", f"{out}/figures/figure1.pdf"]
    if mine("figure2"):
        files.append(f"{out}/figures/figure2.png")
    if mine("table1"):
        files += [f"{out}/tables/table1.csv", f"{out}/tables/table1.md"]
    if mine("figure3"):
        files += [f"{out}/figures/figure3.png", f"{out}/figures/figure3.pdf"]
    for name in ("figure5", "figure6", "figure6_si"):
        if figs.get(name) and mine(name):
            files += [f"{out}/figures/{name}.png", f"{out}/figures/{name}.pdf"]
    for s in study.figure3_si_systems():
        if system in (None, s):
            files += [f"{out}/figures/figure3_{s}.png", f"{out}/figures/figure3_{s}.pdf"]
    for s in ([system] if system else study.systems):
        if study.has_analysis(s, "ramachandran"):
            files.append(f"{out}/tables/ramachandran_{s}.csv")
    if system is None:               # tables across systems: only in the whole run
        files.append(f"{out}/tables/diagnostics.csv")
        if study.mlp:
            files.append(f"{out}/tables/permutations.csv")
        files += [f"{out}/claims.csv", f"{out}/claims.md"]
    files.append(f"{out}/provenance.json")
    return list(dict.fromkeys(files))


def preset_banner(study: Study, out: str) -> str:
    """What this run computes, printed first (also in a dry run)."""
    cfg = study.config
    lines = [f"mapmatters: preset '{cfg['preset']}', outputs in {out}/"]
    for s, system in study.systems.items():
        p = cfg["reference"][s]
        n_out = round(p["production_ps"] / p["dt_ps"] / p["output_every_steps"])
        lines.append(f"  {s} ({system['kind']}) reference: production {p['production_ps'] / 1000:g} ns at dt "
                     f"{p['dt_ps'] * 1000:g} fs, positions+forces every {p['output_every_steps']} steps = "
                     f"{n_out} frames; equilibration {p['equilibration_ps']:g} ps; {p['temperature_K']:g} K")
        if p.get("start"):
            conf = system["molecule"]["start_conformations"][p["start"]]
            lines.append(f"    start structure: {p['start']} (phi {conf['phi_deg']:g}, psi {conf['psi_deg']:g} deg)")
        lines.append(f"    mappings: {', '.join(study.mappings(s))}")
        if study.classical[s]:
            lines.append(f"    classical models: {', '.join(study.classical[s])}")
        if study.mlp_models(s):
            lines.append(f"    MLP models: {len(study.mlp_models(s))} (variant x mapping)")
    return "\n".join(lines)
