"""``python -m instrument_agent.cli``: the ``amadeus`` command."""

import sys

from instrument_agent.cli import main

sys.exit(main())
