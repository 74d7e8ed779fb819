#!/usr/bin/env bash
# Matrix scenario "dm_request": see matrix_driver.py.
exec /usr/bin/python3 "$2/tests/integration/matrix/matrix_driver.py" --usher "$1" dm_request
