#!/usr/bin/env bash
# slow: sleeps N seconds (from ?seconds=N, else from the body, else 5), then says so.
# The stack gives it exec_timeout=2s, so `?seconds=3` is cut off with a 504.
set -euo pipefail

seconds=""
if [[ "${Http_Query:-}" =~ (^|&)seconds=([0-9]+(\.[0-9]+)?)(&|$) ]]; then
  seconds="${BASH_REMATCH[2]}"
else
  body="$(cat)"
  body="${body//[[:space:]]/}"
  if [[ "$body" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then seconds="$body"; fi
fi
seconds="${seconds:-5}"

sleep "$seconds"
echo "slept ${seconds}s"
