"""Analyses of CG datasets: bonded distributions, nearest-neighbour distances and RDFs.

Units: nm for lengths, degrees for angles and dihedrals; densities per nm or per degree.
"""
from .bonded import (
                     CSV_COLUMNS,
                     Histogram,
                     angles_deg,
                     bin_edges,
                     bond_lengths,
                     dataset_observable_histogram,
                     dihedrals_deg,
                     histogram_frame,
                     nearest_neighbour_distances,
                     nearest_neighbour_histogram,
                     observable_histogram,
                     observable_tuples,
                     observable_values,
                     read_distribution_csv,
                     write_distribution_csv,
)
from .rdf import (
                     compute_rdfs,
                     default_r_max_nm,
                     rdf_error,
                     rdf_error_by_pair,
                     rdf_pair_list,
                     read_rdf_csv,
                     species_pairs,
                     write_rdf_csv,
)

__all__ = [
    "CSV_COLUMNS", "Histogram", "angles_deg", "bin_edges", "bond_lengths", "compute_rdfs",
    "dataset_observable_histogram", "default_r_max_nm", "dihedrals_deg", "histogram_frame",
    "nearest_neighbour_distances", "nearest_neighbour_histogram", "observable_histogram",
    "observable_tuples", "observable_values", "rdf_error", "rdf_error_by_pair", "rdf_pair_list",
    "read_distribution_csv", "read_rdf_csv", "species_pairs", "write_distribution_csv",
    "write_rdf_csv",
]
