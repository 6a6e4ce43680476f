#!/usr/bin/env bash
# Called once per request: the request body is on stdin, the response goes to stdout.
# Request details are environment variables: Http_Method, Http_Path, Http_Query and one
# Http_<Header_Name> per header (for example Http_Content_Type). Exit non-zero to fail the call.
set -euo pipefail

cat
