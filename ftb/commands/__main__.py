"""`python -m ftb.commands ...`: the operator commands without the rest of `ftb`."""

import sys

from ftb.commands import main

sys.exit(main())
