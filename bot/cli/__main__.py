"""`python -m bot.cli`: the same command as the `scale-review` entry point."""

import sys

from bot.cli import main

sys.exit(main())
