"""`bir site serve`: build, serve the output on 127.0.0.1, and rebuild when the register changes.

Changes are found by polling modification times (no extra dependency); a failed rebuild keeps serving
the last good site, since `build_site` replaces the output only on success.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bir.base.problems import UsageError
from bir.site.build import build_site

WATCHED = ("registry", "schemas", "site/docs", "site/mkdocs.yml", "bir.yaml")


def snapshot(root: Path) -> dict[str, int]:
    """Modification times of every watched file."""
    seen: dict[str, int] = {}
    for name in WATCHED:
        path = root / name
        if path.is_file():
            seen[name] = path.stat().st_mtime_ns
        elif path.is_dir():
            for f in path.rglob("*"):
                if f.is_file():
                    seen[f.relative_to(root).as_posix()] = f.stat().st_mtime_ns
    return seen


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def start_server(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(
    root: Path, out: Path, port: int, *, log: Callable[[str], None], interval: float = 1.0, stop: threading.Event | None = None
) -> None:
    build_site(root, out, log=log)
    # Serve the parent and redirect into the folder: the output folder itself is replaced on each rebuild.
    try:
        server = start_server(out.parent, port)
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; choose another --port") from exc
    log(f"serving http://127.0.0.1:{server.server_address[1]}/{out.name}/index.html (Ctrl-C to stop)")
    last = snapshot(root)
    try:
        while not (stop and stop.is_set()):
            time.sleep(interval)
            now = snapshot(root)
            if now != last:
                last = now
                log("change detected: rebuilding")
                try:
                    build_site(root, out, log=log)
                except UsageError as exc:
                    log(f"rebuild failed, still serving the last good site: {exc}")
    finally:
        server.shutdown()
