"""``python -m nexudus_async.cli``, the same as the ``nexudus-async`` script."""

import sys

from .main import main

sys.exit(main())
