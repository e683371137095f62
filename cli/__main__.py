"""`python -m cli`: the `waitlist` command, from a source tree."""

import sys

from cli.main import main

main(sys.argv[1:])
