#!/usr/bin/env bash
# echo: sends the request body back unchanged.
set -euo pipefail

cat
