"""`python -m dsar.cli` runs the `dsar` command line."""

from dsar.cli import main

main()
