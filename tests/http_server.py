"""A file server on 127.0.0.1 for the download tests: Range requests, and a
first response that can be cut short to test resuming."""
import http.server
import re
import threading


class FileServer:
    """Serves `payload` at /<name>; the first `cut_after` bytes only, once; on `port`
    (0: any free one)."""

    def __init__(self, payload, name='vgg.mat', cut_after=None, port=0):
        self.payload, self.name, self.cut_after = payload, name, cut_after
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append((self.path, self.headers.get('Range')))
                if self.path != '/' + server.name:
                    self.send_error(404)
                    return
                start = 0
                match = re.match(r'bytes=(\d+)-', self.headers.get('Range') or '')
                if match:
                    start = int(match.group(1))
                body = server.payload[start:]
                self.send_response(206 if match else 200)
                if match:
                    self.send_header('Content-Range', 'bytes %d-%d/%d' % (
                        start, len(server.payload) - 1, len(server.payload)))
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                if server.cut_after is not None:
                    body, server.cut_after = body[:server.cut_after], None
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler)
        self.url = 'http://127.0.0.1:%d/%s' % (self.httpd.server_port, name)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
