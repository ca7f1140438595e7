"""The WSGI app for Gunicorn: the same routes as listener.mjs (hello, 64 KiB, JSON echo)."""

import json

HELLO = b"Hello, World!"
BIG = b"x" * (64 * 1024)


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))])
        return [HELLO]
    if path == "/64k":
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(BIG)))])
        return [BIG]
    if path == "/echo" and environ["REQUEST_METHOD"] == "POST":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            body = json.dumps(json.loads(environ["wsgi.input"].read(size)), separators=(",", ":")).encode()
        except ValueError:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"bad json"]
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]
