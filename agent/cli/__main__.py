"""`python -m sceneshop.agent.cli` is the `sceneshop` command."""

import sys

from sceneshop.agent.cli import main

sys.exit(main())
