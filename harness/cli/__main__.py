"""`python -m harness.cli` runs the `stackharness` command."""

import sys

from harness.cli import main

sys.exit(main())
