#!/usr/bin/env bash
# whippet bash template entry. The watchdog forks `bash index.sh` once per request. The handler
# script inherits stdin (the request body) and stdout (the response body); its exit status is the
# call's: non-zero makes the watchdog answer 500 with X-Exit-Code and the stderr output.
set -o pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/function/handler.sh" "$@"
