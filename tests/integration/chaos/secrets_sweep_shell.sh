#!/usr/bin/env bash
# Secrets sweep of the shell tests (tests/integration/*/*.sh): each run again
# with usher at log_level = debug, and every secret usher was given searched
# for in all it printed. How, and which tests: secrets_sweep.py beside this.
exec /usr/bin/python3 "$2/tests/integration/chaos/secrets_sweep.py" shell "$1" "$2"
