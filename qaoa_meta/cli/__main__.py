"""``python -m qaoa_meta.cli``: the ``qaoa-meta`` command."""

import sys

from qaoa_meta.cli import main

sys.exit(main())
