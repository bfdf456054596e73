"""plate-edge: Korean licence-plate recognition at the parking gate."""

__version__ = "0.1.0"
