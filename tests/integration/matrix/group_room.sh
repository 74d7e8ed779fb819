#!/usr/bin/env bash
# Matrix scenario "group_room": see matrix_driver.py.
exec /usr/bin/python3 "$2/tests/integration/matrix/matrix_driver.py" --usher "$1" group_room
