"""``python -m asyncmq.cli``."""

import sys

from asyncmq.cli import main

sys.exit(main())
