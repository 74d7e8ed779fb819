#!/usr/bin/env bash
# Secrets sweep of the scenarios (tests/integration/*/*.scn): each run again
# with usher at log_level = debug, and every secret usher was given searched
# for in all it printed. How: tests/integration/chaos/secrets_sweep.py.
exec /usr/bin/python3 "$2/tests/integration/chaos/secrets_sweep.py" scenarios "$1" "$2"
