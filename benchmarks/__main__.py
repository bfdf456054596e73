"""`python -m benchmarks NAME [ARGS...]`, the same as `plate-edge bench NAME [ARGS...]`."""

import sys

from edge.cli import main

sys.exit(main(["bench", *sys.argv[1:]]))
