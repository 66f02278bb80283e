"""``python -m asyncmq``: the ``asyncmq`` command."""

import sys

from asyncmq.cli import main

sys.exit(main())
