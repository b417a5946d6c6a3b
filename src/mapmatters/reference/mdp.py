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
            write_forces: bool = True) -> str:
    """NVT MD with the v-rescale thermostat.

    Positions and forces are written to the .trr together every ``output_every_steps``
    (``nstxout = nstfout``), velocities never; energies at the same interval.
    """
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
        "tc-grps": "System",
        "tau-t": tau_t_ps,
        "ref-t": temperature_K,
        "pcoupl": "no",
        "gen-vel": "yes" if generate_velocities else "no",
        "gen-temp": temperature_K,
        "gen-seed": seed,
        "ld-seed": seed,
        "continuation": "no" if generate_velocities else "yes",
    }
    p.update(_interactions(cutoff_nm))
    return _render(p)


def _calc_energy_interval(output_every_steps: int) -> int:
    """Largest divisor of the output interval that is at most 100 (grompp requires one)."""
    for n in range(min(100, output_every_steps), 0, -1):
        if output_every_steps % n == 0:
            return n
    return 1
