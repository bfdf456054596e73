"""`python -m edge` is `plate-edge`."""

import sys

from edge.cli import main

sys.exit(main())
