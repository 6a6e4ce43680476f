#!/usr/bin/env python3
"""whippet python3 template entry.

The watchdog forks `python3 index.py` once per request: the request body arrives on stdin and
whatever this process writes to stdout is the response body. A handler that raises makes the
process exit 1 with the error on stderr, which the watchdog turns into a 500 with X-Exit-Code: 1.
"""
import json
import os
import sys
import traceback


def to_bytes(result):
    """Strings and bytes go out as they are; None as nothing; anything else as JSON."""
    if result is None:
        return b""
    if isinstance(result, (bytes, bytearray)):
        return bytes(result)
    if isinstance(result, str):
        return result.encode("utf-8")
    return (json.dumps(result) + "\n").encode("utf-8")


def main():
    raw = sys.stdin.buffer.read()
    try:
        # Imported here so that an import error is reported like any other handler failure.
        from function import handler

        result = handler.handle(raw.decode("utf-8", errors="replace"))
    except Exception as err:  # noqa: BLE001 - every handler failure becomes exit 1
        if os.environ.get("write_debug", "").lower() in ("1", "true", "yes", "on"):
            traceback.print_exc(file=sys.stderr)
        else:
            sys.stderr.write("%s: %s\n" % (type(err).__name__, err))
        sys.stderr.flush()
        sys.exit(1)
    sys.stdout.buffer.write(to_bytes(result))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
