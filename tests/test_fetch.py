"""Fetching the DGDDI ZIP from a real HTTP server on 127.0.0.1, and importing by hand."""

from __future__ import annotations

import http.server
import threading
import time
import zipfile
from pathlib import Path

import pytest

from dgddi_fixtures import EXPORTS, IMPORTS, rows, write_lines, write_source, write_zip
from tradebook import fetch, reading


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.routes[path]`` = (mode, body); records every request."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # noqa: N802 - http.server hook
        server = self.server
        server.requests.append((self.path, self.headers.get("Range")))
        mode, body = server.routes.get(self.path, ("404", b""))
        count = sum(1 for p, _ in server.requests if p == self.path)
        if mode == "404":
            self.send_error(404, "Not Found")
            return
        if mode == "500-then-ok" and count == 1:
            self.send_error(503, "Busy")
            return
        if mode == "slow":
            time.sleep(1.0)
        start = 0
        ranged = self.headers.get("Range")
        if ranged and mode in ("resume", "ok"):
            start = int(ranged.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        if mode in ("resume", "ok"):
            self.send_header("Accept-Ranges", "bytes")
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Content-Type", "text/html" if mode == "html" else "application/zip")
        self.send_header("Connection", "close")
        self.end_headers()
        cut = (mode == "truncated" or (mode in ("resume", "no-range") and count == 1))
        self.wfile.write(payload[: len(payload) // 2] if cut else payload)
        self.wfile.flush()
        self.close_connection = True


class QuietServer(http.server.ThreadingHTTPServer):
    """A server that does not print the broken pipes the timeout test provokes."""

    def handle_error(self, request, client_address):
        pass


@pytest.fixture
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.routes, httpd.requests = {}, []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def zip_bytes(tmp_path_factory) -> bytes:
    folder = write_source(tmp_path_factory.mktemp("z") / "raw")
    return write_zip(folder.parent / "dgddi.zip", folder).read_bytes()


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(fetch, "RETRY_PAUSE", 0.0)


def _only_target(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir())


def test_normal_download(server, zip_bytes, tmp_path):
    server.routes["/dgddi-2024.zip"] = ("ok", zip_bytes)
    path = fetch.download(server.url + "/dgddi-2024.zip", tmp_path / "raw", timeout=5)
    assert path == tmp_path / "raw" / "dgddi-2024.zip"
    assert path.read_bytes() == zip_bytes
    assert _only_target(tmp_path / "raw") == ["dgddi-2024.zip"]
    assert reading.read_source(path).report.rows_rejected == 0


def test_download_to_a_zip_path(server, zip_bytes, tmp_path):
    server.routes["/page.asp"] = ("ok", zip_bytes)
    path = fetch.download(server.url + "/page.asp", tmp_path / "raw" / "mon.zip", timeout=5)
    assert path == tmp_path / "raw" / "mon.zip" and path.read_bytes() == zip_bytes


def test_resume_with_range(server, zip_bytes, tmp_path):
    server.routes["/a.zip"] = ("resume", zip_bytes)
    path = fetch.download(server.url + "/a.zip", tmp_path, timeout=5)
    assert path.read_bytes() == zip_bytes
    assert server.requests == [("/a.zip", None), ("/a.zip", f"bytes={len(zip_bytes) // 2}-")]


def test_clean_retry_without_range_support(server, zip_bytes, tmp_path):
    server.routes["/b.zip"] = ("no-range", zip_bytes)
    path = fetch.download(server.url + "/b.zip", tmp_path, timeout=5)
    assert path.read_bytes() == zip_bytes
    assert server.requests == [("/b.zip", None), ("/b.zip", None)]  # no Range: clean retry


def test_server_error_then_success(server, zip_bytes, tmp_path):
    server.routes["/c.zip"] = ("500-then-ok", zip_bytes)
    assert fetch.download(server.url + "/c.zip", tmp_path, timeout=5).read_bytes() == zip_bytes


def test_truncated_download_fails_in_french_after_bounded_retries(server, zip_bytes, tmp_path):
    server.routes["/t.zip"] = ("truncated", zip_bytes)
    with pytest.raises(fetch.FetchError) as err:
        fetch.download(server.url + "/t.zip", tmp_path, timeout=5, attempts=3)
    assert "après 3 tentatives" in str(err.value)
    assert "tronqué" in str(err.value)
    assert len(server.requests) == 3
    assert _only_target(tmp_path) == []  # nothing half-written left


def test_non_zip_answer(server, tmp_path):
    server.routes["/page"] = ("html", b"<!DOCTYPE html><html><body>Bases completes</body></html>")
    with pytest.raises(fetch.FetchError) as err:
        fetch.download(server.url + "/page", tmp_path, timeout=5)
    assert "page web (HTML)" in str(err.value) and "--zip" in str(err.value)
    assert _only_target(tmp_path) == []


def test_http_error(server, tmp_path):
    with pytest.raises(fetch.FetchError, match="erreur HTTP 404"):
        fetch.download(server.url + "/absent.zip", tmp_path, timeout=5)
    assert len(server.requests) == 1  # a 404 is not retried


def test_timeout(server, zip_bytes, tmp_path):
    server.routes["/slow.zip"] = ("slow", zip_bytes)
    with pytest.raises(fetch.FetchError, match="après 2 tentatives"):
        fetch.download(server.url + "/slow.zip", tmp_path, timeout=0.2, attempts=2)


def test_zip_without_the_data_files(server, tmp_path):
    other = tmp_path / "autre.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr(EXPORTS, "E;1;2024;61;05;A01Z;0111;BE;1;1\n")
    server.routes["/autre.zip"] = ("ok", other.read_bytes())
    with pytest.raises(fetch.FetchError, match=f"ne contient pas {IMPORTS}"):
        fetch.download(server.url + "/autre.zip", tmp_path / "raw", timeout=5)


def test_default_url_setting(monkeypatch):
    monkeypatch.delenv(fetch.ENV_URL, raising=False)
    assert fetch.default_url() == fetch.DEFAULT_URL
    monkeypatch.setenv(fetch.ENV_URL, "https://exemple.test/x.zip")
    assert fetch.default_url() == "https://exemple.test/x.zip"
    assert fetch.file_name("https://exemple.test/x.zip?a=1") == "x.zip"
    assert fetch.file_name("https://exemple.test/page.asp") == fetch.DEFAULT_NAME


def test_import_zip_by_hand(zip_bytes, tmp_path):
    source = tmp_path / "Téléchargements" / "dgddi.zip"
    source.parent.mkdir()
    source.write_bytes(zip_bytes)
    path = fetch.import_archive(source, tmp_path / "raw")
    assert path == tmp_path / "raw" / "dgddi.zip" and path.read_bytes() == zip_bytes


def test_import_txt_by_hand(tmp_path):
    txt = write_lines(tmp_path / "imports_2024.txt", rows("I"))
    path = fetch.import_archive(txt, tmp_path / "raw")
    assert path.name == IMPORTS
    with pytest.raises(fetch.FetchError, match="ligne 1 : 3 champ"):
        fetch.import_archive(write_lines(tmp_path / "x.txt", ["a;b;c"]), tmp_path / "raw")


def test_import_bad_zip(tmp_path):
    bad = tmp_path / "dgddi.zip"
    bad.write_bytes(b"<html>pas un zip</html>")
    with pytest.raises(fetch.FetchError, match="page web"):
        fetch.import_archive(bad, tmp_path / "raw")
    with pytest.raises(fetch.FetchError, match="introuvable"):
        fetch.import_archive(tmp_path / "absent.zip", tmp_path / "raw")
