"""`--preview [HOST:]PORT`: the live page of a run, served from the standard library's
threading HTTP server while the run lasts.

The standard library's server is all the page needs: a few routes, one thread per
connection, and server-sent events, which are plain HTTP (a stream of `data:` lines).
A framework would add a dependency and an event loop beside TensorFlow's threads, and
nothing the page uses. Every request must carry the run's token (in the query, or for
the buttons in the X-Art-Token header); one without it is refused with 403.

Data flows one way: the run writes to its Board (art.app.board); each page's stream reads
it at most STREAM_RATE times a second, and Stop and Save now are the only way back.
"""
import contextlib
import hmac
import http.server
import importlib.resources
import ipaddress
import json
import os
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.parse

from art.app.errors import UsageError

STREAM_RATE = 4  # messages a second at most, to each page
KEEPALIVE = 15  # seconds between comments on an idle stream
LINGER = 5  # seconds the server waits after the run for open pages to take their files
PAGE_FILES = {'/': ('index.html', 'text/html; charset=utf-8'),
              '/page.js': ('page.js', 'text/javascript; charset=utf-8'),
              '/page.css': ('page.css', 'text/css; charset=utf-8')}


def address(text):
    """'[HOST:]PORT' as (host, port); ValueError says what is wrong. Port 0 takes a free one."""
    host, _, port = text.rpartition(':')
    if not port.isdigit() or int(port) > 65535:
        raise ValueError('%r is not [HOST:]PORT (a port from 0 to 65535)' % text)
    return host.strip('[]') or '127.0.0.1', int(port)


def is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == 'localhost'


def page_text(name):
    return importlib.resources.files('art.app').joinpath('page', name).read_bytes()


class Handler(http.server.BaseHTTPRequestHandler):
    """The page's routes; `self.server` is the PreviewServer."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: the run's own lines are the terminal's."""

    def _query(self):
        parsed = urllib.parse.urlsplit(self.path)
        return parsed.path, dict(urllib.parse.parse_qsl(parsed.query))

    def _allowed(self, given):
        if given is not None and hmac.compare_digest(given.encode(),
                                                     self.server.token.encode()):
            return True
        self._send(403, b'forbidden: this page needs the token its run printed\n',
                   'text/plain; charset=utf-8')
        return False

    def _send(self, code, body, kind, **headers):
        self.send_response(code)
        self.send_header('Content-Type', kind)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Cache-Control', 'no-store')
        for name, value in headers.items():
            self.send_header(name.replace('_', '-'), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # pylint: disable=invalid-name
        path, query = self._query()
        if not self._allowed(query.get('token')):
            return
        board = self.server.board
        if path in PAGE_FILES:
            name, kind = PAGE_FILES[path]
            body = page_text(name)
            if name == 'index.html':
                body = body.replace(b'__TOKEN__', self.server.token.encode())
            self._send(200, body, kind)
        elif path == '/events':
            self._stream()
        elif path in ('/image', '/thumbnail'):
            data = board.image()[1] if path == '/image' else board.thumbnail(query.get('job'))
            if data:
                self._send(200, data, 'image/jpeg')
            else:
                self._send(404, b'no image yet\n', 'text/plain')
        elif path.startswith('/download/'):
            self._download(board.download(path[len('/download/'):]))
        else:
            self._send(404, b'not found\n', 'text/plain')

    def do_POST(self):  # pylint: disable=invalid-name
        path, _ = self._query()
        self.rfile.read(int(self.headers.get('Content-Length') or 0))  # the next request's
        if not self._allowed(self.headers.get('X-Art-Token')):
            return
        board = self.server.board
        if path == '/stop' and not board.ended:
            # As Ctrl-C at the terminal: the run saves what it painted and ends with 130.
            os.kill(os.getpid(), signal.SIGINT)
        elif path == '/save' and not board.ended:
            board.ask_save()
        elif path not in ('/stop', '/save'):
            self._send(404, b'not found\n', 'text/plain')
            return
        self._send(202, b'{}', 'application/json')

    def _download(self, path):
        try:
            with open(path, 'rb') as handle:
                body = handle.read()
        except (OSError, TypeError):
            self._send(404, b'not written\n', 'text/plain')
            return
        self._send(200, body, 'application/octet-stream', Content_Disposition=(
            'attachment; filename="%s"' % os.path.basename(path).replace('"', '')))

    def _stream(self):
        """Server-sent events: the Board's news, at most STREAM_RATE messages a second,
        until the page goes or the server closes."""
        board = self.server.board
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream')
        self.send_header('Cache-Control', 'no-store')
        self.end_headers()
        where, version = (None, 0), None
        with self.server.counting_stream():
            try:
                while not self.server.closing:
                    if version == board.version:
                        self.wfile.write(b': idle\n\n')  # finds a page that went away
                    else:
                        message, where = board.since(*where)
                        version = message['version']
                        self.wfile.write(b'data: %s\n\n' % json.dumps(message).encode())
                    self.wfile.flush()
                    time.sleep(1 / STREAM_RATE)
                    # After the run, a page that took its files and went is noticed soon.
                    board.wait(version, 1 / STREAM_RATE if board.ended else KEEPALIVE)
            except OSError:  # the page closed
                pass
        self.close_connection = True


class PreviewServer(http.server.ThreadingHTTPServer):
    """The page's server, in a thread of its own, for one run's Board."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host, port, board):
        self.board, self.token, self.closing = board, secrets.token_urlsafe(18), False
        board.served = True
        self._streams = threading.Condition()
        self.address_family = socket.AF_INET6 if ':' in host else socket.AF_INET
        try:
            super().__init__((host, port), Handler)
        except OSError as error:
            raise UsageError('--preview: cannot listen on %s:%d: %s'
                             % (host, port, error.strerror or error)) from None
        self.url = 'http://%s:%d/?token=%s' % (
            host if ':' not in host else '[%s]' % host, self.server_address[1], self.token)
        board.update_run(network=None if is_loopback(host) else '%s:%d' % (
            host, self.server_address[1]))
        self.thread = threading.Thread(target=self.serve_forever, name='art preview',
                                       daemon=True)

    def handle_error(self, request, client_address):
        """A page that went mid-answer is no error; anything else is one line on stderr,
        and the run goes on."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            print('run_art.py: preview: %s: %s' % (type(error).__name__, error), file=sys.stderr)

    @contextlib.contextmanager
    def counting_stream(self):
        with self._streams:
            self.board.streams += 1
        try:
            yield
        finally:
            with self._streams:
                self.board.streams -= 1
                self._streams.notify_all()

    def close(self, linger=LINGER):
        """After the run: give open pages up to `linger` seconds to take the run's files
        (each closes its stream when it has them), then stop serving."""
        with self._streams:
            self._streams.wait_for(lambda: self.board.streams == 0, linger)
        self.closing = True
        self.shutdown()
        self.server_close()


@contextlib.contextmanager
def serving(where, board, say):
    """Serve `board`'s page on `where` ((host, port)) for the block, its address said."""
    server = PreviewServer(*where, board)
    server.thread.start()
    say('preview: %s' % server.url)
    if board.run['network']:
        say('preview: reachable from the network at %s, by whoever has the token'
            % board.run['network'])
    try:
        yield server
    finally:
        server.close(LINGER if board.streams else 0)
