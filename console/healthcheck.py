"""`python -m console.healthcheck [URL]`: exit 0 when the console answers GET /healthz (the container health check).

URL defaults to the console's own listen address (AUDIOSEARCH_CONSOLE_LISTEN), a wildcard host dialled as localhost.
"""

import sys
import urllib.error
import urllib.request

from console import config

TIMEOUT_SECONDS = 3.0


def default_url() -> str:
    host, port = config.load().host_port
    if host in ("", "0.0.0.0", "::", "*"):
        host = "localhost"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/healthz"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    url = args[0] if args else default_url()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            healthy = response.status == 200
    except (urllib.error.URLError, OSError) as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1
    print(f"{url}: {'ok' if healthy else 'not ok'}")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
