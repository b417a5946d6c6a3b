"""GROMACS run parameters (.mdp) for the reference protocol, built from the config.

One function per stage; every number comes from the preset. No constraints anywhere:
GROMACS writes forces without the constraint forces, and force matching on such forces
is biased (STUDY.md section 2).
"""
from __future__ import annotations


def _render(params: dict) -> str:
    width = max(len(k) for k in params)
    return "".join(f"{k:<{width}} = {v}\n" for k, v in params.items())


def _interactions(cutoff_nm: float) -> dict:
    return {
        "cutoff-scheme": "Verlet",
        "pbc": "xyz",
        "coulombtype": "PME",
        "rcoulomb": cutoff_nm,
        "vdwtype": "Cut-off",
        "rvdw": cutoff_nm,
        "DispCorr": "EnerPres",
        "fourierspacing": 0.12,
        "constraints": "none",
    }


def minimisation_mdp(cutoff_nm: float, nsteps: int, emtol: float = 100.0) -> str:
    p = {"integrator": "steep", "nsteps": nsteps, "emtol": emtol, "emstep": 0.001}
    p.update(_interactions(cutoff_nm))
    return _render(p)


def nvt_mdp(*, cutoff_nm: float, dt_ps: float, nsteps: int, temperature_K: float,
            tau_t_ps: float, output_every_steps: int, seed: int, generate_velocities: bool,
            write_forces: bool = True, tc_grps: str = "System") -> str:
    """NVT MD with the v-rescale thermostat.

    Positions and forces are written to the .trr together every ``output_every_steps``
    (``nstxout = nstfout``), velocities never; energies at the same interval.
    ``tc_grps``: thermostat groups, e.g. ``"Protein Non-Protein"`` for a solvated peptide
    (each group gets ``tau_t_ps`` and ``temperature_K``).
    """
    p = _md_params(cutoff_nm=cutoff_nm, dt_ps=dt_ps, nsteps=nsteps, temperature_K=temperature_K,
                   tau_t_ps=tau_t_ps, output_every_steps=output_every_steps, seed=seed,
                   generate_velocities=generate_velocities, write_forces=write_forces,
                   tc_grps=tc_grps)
    return _render(p)


def npt_mdp(*, cutoff_nm: float, dt_ps: float, nsteps: int, temperature_K: float,
            tau_t_ps: float, output_every_steps: int, seed: int, generate_velocities: bool,
            tc_grps: str = "System", pcoupl: str = "C-rescale", tau_p_ps: float = 2.0,
            compressibility_per_bar: float = 4.5e-5, ref_p_bar: float = 1.0) -> str:
    """NPT equilibration: v-rescale thermostat and isotropic pressure coupling.

    ``C-rescale`` (stochastic cell rescaling, GROMACS >= 2021) gives the right volume
    fluctuations and is safe from the start of a run, so no Berendsen stage is needed.
    Positions only (no forces) every ``output_every_steps``.
    """
    p = _md_params(cutoff_nm=cutoff_nm, dt_ps=dt_ps, nsteps=nsteps, temperature_K=temperature_K,
                   tau_t_ps=tau_t_ps, output_every_steps=output_every_steps, seed=seed,
                   generate_velocities=generate_velocities, write_forces=False, tc_grps=tc_grps)
    out = {}
    for k, v in p.items():
        out[k] = v
        if k == "pcoupl":
            out.update({"pcoupl": pcoupl, "pcoupltype": "isotropic", "tau-p": tau_p_ps,
                        "compressibility": compressibility_per_bar, "ref-p": ref_p_bar,
                        "refcoord-scaling": "com"})
    return _render(out)


def _md_params(*, cutoff_nm, dt_ps, nsteps, temperature_K, tau_t_ps, output_every_steps, seed,
               generate_velocities, write_forces, tc_grps) -> dict:
    groups = tc_grps.split()
    if not groups:
        raise ValueError("tc_grps names no group")
    p = {
        "integrator": "md",
        "dt": dt_ps,
        "nsteps": nsteps,
        "comm-mode": "Linear",
        "nstcomm": 100,
        "nstxout": output_every_steps,
        "nstvout": 0,
        "nstfout": output_every_steps if write_forces else 0,
        "nstxout-compressed": 0,
        "nstenergy": output_every_steps,
        "nstcalcenergy": _calc_energy_interval(output_every_steps),
        "nstlog": max(output_every_steps, 1000),
        "tcoupl": "V-rescale",
        "tc-grps": " ".join(groups),
        "tau-t": " ".join([str(tau_t_ps)] * len(groups)),
        "ref-t": " ".join([str(temperature_K)] * len(groups)),
        "pcoupl": "no",
        "gen-vel": "yes" if generate_velocities else "no",
        "gen-temp": temperature_K,
        "gen-seed": seed,
        "ld-seed": seed,
        "continuation": "no" if generate_velocities else "yes",
    }
    p.update(_interactions(cutoff_nm))
    return p


def _calc_energy_interval(output_every_steps: int) -> int:
    """Largest divisor of the output interval that is at most 100 (grompp requires one)."""
    for n in range(min(100, output_every_steps), 0, -1):
        if output_every_steps % n == 0:
            return n
    return 1
