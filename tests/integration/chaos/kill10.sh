#!/usr/bin/env bash
# Crash safety: usher is killed with SIGKILL 10 times at random moments
# in a stream of conversations and restarted on the same store; no
# request is lost, made twice, or made without the person being told.
# The seed is printed; USHER_CHAOS_SEED repeats a run.
set -euo pipefail
usher="$1"; repo="$2"
chaos_args=()
[ -n "${USHER_CHAOS_SEED:-}" ] && chaos_args=(--seed "$USHER_CHAOS_SEED")
# Under `ctest -L valgrind` each restart takes seconds before usher answers
# (more on a busy machine): longer waits there only, still under ctest's 600 s.
cap=110
if [ -n "${VALGRIND_USHER_BINARY:-}" ]; then
	chaos_args+=(--step-timeout 60)
	cap=500
fi
exec timeout "$cap" /usr/bin/python3 "$repo/tests/chaos/chaos.py" --usher "$usher" --kills 10 "${chaos_args[@]}"
