"""Figures (matplotlib, Agg backend): PNGs from the analysis CSVs."""
from .reference import plot_distribution, plot_rdfs, plot_reference

__all__ = ["plot_distribution", "plot_rdfs", "plot_reference"]
