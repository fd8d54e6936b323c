"""`python -m dualwrite.cli` runs the `dualwrite` command."""

from dualwrite.cli.app import main

main()
