"""A real headless browser for the tests of pages: Chromium driven through
its DevTools protocol (a websocket; tornado's client, which bokeh brings).

The browser runs without network access to anything but this machine's
addresses in practice (the test machines have no internet), with a fresh
profile, and records what its console reports: exceptions, console.error
calls and failed loads. ``find_browser()`` skips the calling test (fails
it where ``BRAINSTORM_REQUIRE_EXTRAS=1``) when no Chromium is installed.
"""
import asyncio
import base64
import io
import json
import os
import shutil
import subprocess
import time
import urllib.request

from brainstorm.testing.extras import missing_extra

BROWSERS = ('chromium-headless-shell', 'chromium', 'chromium-browser',
            'google-chrome', 'google-chrome-stable')
INSTALL = ('apt-get install chromium-headless-shell (Debian; or chromium), '
           'as .ci/run does')
FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
         '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--hide-scrollbars')


def find_browser():
    """The path of an installed Chromium, or skip (fail) the test."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path is not None:
            return path
    missing_extra('no headless browser is installed (none of {} is on '
                  'PATH); {}'.format(', '.join(BROWSERS), INSTALL))


class BrowserError(AssertionError):
    pass


class Browser:
    """One headless Chromium with one page.

    Parameters
    ----------
    binary : str
        The browser program.
    folder : pathlib.Path
        Where its fresh profile and its log go.
    size : tuple of int
        Width and height of the window in pixels.
    """

    def __init__(self, binary, folder, size=(1000, 900), timeout=60):
        self.timeout = timeout
        profile = folder / 'browser-profile'
        profile.mkdir(parents=True, exist_ok=True)
        self.log_file = folder / 'browser.log'
        self._log = open(self.log_file, 'w')
        self.process = subprocess.Popen(
            [binary] + list(FLAGS) + [
                '--user-data-dir={}'.format(profile),
                '--remote-debugging-port=0',
                '--window-size={},{}'.format(*size), 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        self.loop = asyncio.new_event_loop()
        self.events, self._pending, self._id = [], {}, 0
        self.ws = None
        try:
            port = self._port(profile / 'DevToolsActivePort')
            with urllib.request.urlopen(
                    'http://127.0.0.1:{}/json/list'.format(port),
                    timeout=10) as response:
                targets = json.load(response)
            page = [t for t in targets if t.get('type') == 'page'][0]
            self.ws = self.loop.run_until_complete(self._connect(
                page['webSocketDebuggerUrl']))
            for domain in ('Page', 'Runtime', 'Log'):
                self.call(domain + '.enable')
        except BaseException:
            self.close()
            raise

    def _port(self, active_port):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserError('the browser ended at start (status {}): '
                                   '{}'.format(self.process.returncode,
                                               self.log()))
            try:
                text = active_port.read_text().split()
            except OSError:
                text = []
            if text:
                return int(text[0])
            time.sleep(0.05)
        raise BrowserError('the browser did not open its DevTools port in '
                           '{} s: {}'.format(self.timeout, self.log()))

    def log(self):
        self._log.flush()
        return self.log_file.read_text()[-3000:]

    async def _connect(self, url):
        from tornado.websocket import websocket_connect
        return await websocket_connect(url, on_message_callback=self._message,
                                       max_message_size=256 * 2 ** 20)

    def _message(self, text):
        if text is None:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(BrowserError(
                        'the browser closed the connection: ' + self.log()))
            return
        message = json.loads(text)
        future = self._pending.pop(message.get('id'), None)
        if future is None:
            self.events.append(message)
        elif not future.done():
            if 'error' in message:
                future.set_exception(BrowserError(str(message['error'])))
            else:
                future.set_result(message.get('result', {}))

    async def _call(self, method, params):
        self._id += 1
        future = self.loop.create_future()
        self._pending[self._id] = future
        await self.ws.write_message(json.dumps(
            {'id': self._id, 'method': method, 'params': params}))
        return await asyncio.wait_for(future, self.timeout)

    def call(self, method, **params):
        """Send a DevTools command and return its result."""
        return self.loop.run_until_complete(self._call(method, params))

    def pump(self, seconds):
        """Let the connection deliver events for ``seconds``."""
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def open(self, url):
        self.call('Page.navigate', url=url)

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (promises
        awaited)."""
        result = self.call('Runtime.evaluate', expression=expression,
                           returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in result:
            raise BrowserError('{} failed in the page: {}'.format(
                expression, result['exceptionDetails']))
        return result['result'].get('value')

    def wait_for(self, expression, what, timeout=None):
        """Evaluate ``expression`` until it is true; its last value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                value = self.evaluate(expression)
            except BrowserError:
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError('waited {} s for {}; the console said: '
                                   '{}'.format(timeout or self.timeout, what,
                                               self.console_errors() or
                                               'nothing'))
            self.pump(0.1)

    def screenshot(self):
        """The page as a PIL image (RGB)."""
        from PIL import Image
        data = self.call('Page.captureScreenshot', format='png')['data']
        return Image.open(io.BytesIO(base64.b64decode(data))).convert('RGB')

    def console_errors(self):
        """What the console reported as errors: exceptions, console.error
        calls and failed loads, as strings."""
        errors = []
        for event in self.events:
            method, params = event.get('method'), event.get('params', {})
            if method == 'Runtime.exceptionThrown':
                details = params.get('exceptionDetails', {})
                errors.append('exception: {}'.format(
                    details.get('exception', {}).get('description') or
                    details.get('text')))
            elif method == 'Runtime.consoleAPICalled' and \
                    params.get('type') in ('error', 'assert'):
                errors.append('console.{}: {}'.format(params['type'], ' '.join(
                    str(a.get('value', a.get('description', '')))
                    for a in params.get('args', []))))
            elif method == 'Log.entryAdded' and \
                    params.get('entry', {}).get('level') == 'error':
                entry = params['entry']
                errors.append('{}: {} {}'.format(
                    entry.get('source'), entry.get('text'),
                    entry.get('url', '')).strip())
        return errors

    def close(self):
        if self.ws is not None:
            self.ws.close()
            self.ws = None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.loop.close()
        self._log.close()


def colour_count(image, colour, tolerance=40):
    """How many pixels of ``image`` are within ``tolerance`` (per channel)
    of the RGB ``colour``."""
    import numpy as np
    pixels = np.asarray(image, dtype=np.int16)
    return int((np.abs(pixels - np.array(colour)).max(axis=-1)
                <= tolerance).sum())


def distinct_colours(image):
    return len(image.getcolors(maxcolors=2 ** 24) or ())


def file_url(path):
    return 'file://' + os.path.abspath(path)
