"""CG mappings: specifications read from the system YAML and the COM / force-sum engine."""
from .engine import CGMap, build_cgmap, map_forces, map_positions  # noqa: F401
from .spec import Bead, MappingSpec, load_mappings, parse_mapping  # noqa: F401
