"""What `make run` serves: gunicorn with production settings, static files by WhiteNoise."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, lang: str = "zh-CN") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Language": lang})  # noqa: S310 - loopback only
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, dict(response.headers), response.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "WENMING_TESTING", "DEBUG"}}
    env.update(
        DJANGO_SETTINGS_MODULE="wenming.settings",
        WENMING_VAR_DIR=str(tmp),
        STATIC_ROOT=str(tmp / "static"),
        PORT=str(port),
        WEB_WORKERS="1",
        WEB_THREADS="2",
        WEB_ACCESS_LOG="",
        LOG_LEVEL="WARNING",
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    setup = (["migrate", "--noinput", "-v", "0"], ["createcachetable"], ["collectstatic", "--noinput", "-v", "0"])
    for command in setup:
        subprocess.run([*manage, *command], env=env, cwd=ROOT, check=True, timeout=180)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                stderr = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"gunicorn did not come up: {stderr[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_health(server: str) -> None:
    status, _headers, body = _get(server + "/healthz")
    assert status == 200
    assert body == b'{"status": "ok", "database": "ok"}'


def test_pages_are_chinese_by_default_with_hashed_static_files(server: str) -> None:
    status, headers, body = _get(server + "/sites/")
    assert status == 200
    assert headers["Content-Language"] == "zh-hans"
    page = body.decode()
    assert "文明实践" in page
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert assets
    for asset in assets:
        # Manifest storage names every file by its content hash, so it can be cached for ever.
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", asset), asset
        status, headers, _body = _get(server + asset)
        assert status == 200
        assert "immutable" in headers.get("Cache-Control", "")


def test_english_on_request(server: str) -> None:
    status, headers, _body = _get(server + "/accounts/login/", lang="en")
    assert status == 200
    assert headers["Content-Language"] == "en"


def test_production_headers(server: str) -> None:
    _status, headers, _body = _get(server + "/")
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
