"""The container's HEALTHCHECK: ``python -m bot.ops.healthcheck`` (no curl in a slim image).

GETs ``http://127.0.0.1:$ONCALL_HTTP_PORT/healthz`` (port 3000 by default); exit 0 on HTTP 200,
1 otherwise, with the reason on one line. Standard library only, so it starts fast and never
touches the database or Slack itself: the bot's /healthz does that.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

DEFAULT_TIMEOUT = 4.0


def health_url(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    explicit = env.get("ONCALL_HEALTHCHECK_URL")
    if explicit:
        return explicit
    port = env.get("ONCALL_HTTP_PORT", "3000").strip() or "3000"
    return f"http://127.0.0.1:{port}/healthz"


def check(url: str, timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, str]:
    """(healthy, one line saying why)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(url, timeout=timeout) as resp:
            status = resp.status
            body = resp.read(500).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        body = exc.read(500).decode("utf-8", "replace") if exc.fp is not None else ""
        return False, f"unhealthy: HTTP {exc.code} from {url}: {' '.join(body.split())[:200]}"
    except (OSError, ValueError) as exc:
        return False, f"unhealthy: {url} not reachable: {exc}"
    if status != 200:
        return False, f"unhealthy: HTTP {status} from {url}"
    return True, f"healthy: {url}: {' '.join(body.split())[:200]}"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    ok, line = check(args[0] if args else health_url())
    print(line, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
