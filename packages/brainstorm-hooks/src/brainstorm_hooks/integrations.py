"""Integrations with other tools: Sacred (InfoUpdater) and Bokeh
(BokehVisualizer).

Both libraries are optional extras of brainstorm-hooks
(``pip install brainstorm-hooks[sacred]``, ``[bokeh]``); they are imported
only when such a hook is created or started.
"""
import collections.abc
import math
import threading
from functools import partial

import numpy as np

from brainstorm.distributed import is_writer
from brainstorm.fileio import write_bytes_atomically
from brainstorm.hooks import Hook

from brainstorm_hooks.logs import MissingLogError, lookup_log

__all__ = ['InfoUpdater', 'BokehVisualizer']


def _require(module_name, extra, hook_cls):
    """Import an optional dependency, or say how to install it."""
    import importlib
    try:
        return importlib.import_module(module_name)
    except ImportError as err:
        raise ImportError(
            '{} needs {}, which is not installed: pip install '
            'brainstorm-hooks[{}]'.format(hook_cls.__name__, module_name,
                                          extra),
            name=module_name) from err


def _plain(value):
    """A JSON-friendly copy of a log value (numbers, lists, dicts)."""
    if isinstance(value, collections.abc.Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class InfoUpdater(Hook):
    """Write the trainer logs into the info dict of a Sacred run.

    At every call ``run.info`` gets (replacing what the previous call put
    there) ``'logs'``: a plain copy of ``trainer.logs`` (nested dicts of
    lists of numbers; numpy values become numbers and lists), and
    ``'epoch_nr'`` and ``'update_nr'``: where the training is. Sacred's
    observers store ``run.info`` with the run (at every heartbeat and at the
    end), so the logs of a running experiment can be followed there.

    Needs the optional dependency sacred
    (``pip install brainstorm-hooks[sacred]``).

    Parameters
    ----------
    run : sacred.run.Run
        The run to write to (the ``_run`` argument of a captured function),
        or any object whose ``info`` is a dict. It is not part of the hook's
        description: a hook created from a description needs ``hook.run =
        _run`` before training.
    name : str, optional
        Name of the hook (default: 'InfoUpdater').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.

    Raises
    ------
    ImportError
        When sacred is not installed.

    Examples
    --------
    >>> ex = sacred.Experiment('mnist')
    >>> @ex.automain
    ... def main(_run):
    ...     trainer.add_hook(bs.hooks.InfoUpdater(_run))
    ...     trainer.train(net, getter_tr, valid_getter=getter_va)
    """

    __undescribed__ = {'run': None}

    def __init__(self, run, name=None, timescale='epoch', interval=1):
        super().__init__(name, timescale, interval)
        _require('sacred', 'sacred', type(self))
        self.run = self._check_run(run)

    def _check_run(self, run):
        info = getattr(run, 'info', None)
        if not isinstance(info, collections.abc.MutableMapping):
            raise TypeError(
                '{}: run must be a sacred Run (the _run of a captured '
                'function) or an object with an info dict, got {!r}'.format(
                    type(self).__name__, run))
        return run

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        _require('sacred', 'sacred', type(self))
        if self.run is None:
            raise ValueError('{} {!r} has no run: set hook.run to the sacred '
                             'Run (e.g. _run) before training'.format(
                                 type(self).__name__, self.__name__))
        self._check_run(self.run)

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if not is_writer():   # rank 0 of a data-parallel job reports
            return
        info = self.run.info
        info['logs'] = _plain(logs)
        info['epoch_nr'] = int(epoch_nr)
        info['update_nr'] = int(update_nr)


class BokehVisualizer(Hook):
    """Plot log entries live in the browser with Bokeh.

    Every log entry in ``log_names`` gets a figure (a line with markers):
    the x axis is the epoch number (``timescale='epoch'``) or the update
    number (``'update'``), the y axis the entry's latest value at each call.
    An entry that has not been logged yet (or no new value since the last
    call) adds no point.

    With ``serve=True`` (the default) ``start`` runs a Bokeh server in a
    background thread on ``http://<address>:<port>/``: open it in a browser
    to watch the plots grow (each browser tab gets the whole history, then
    the new points as they come). The server keeps serving after the
    training, so the plots stay visible, until :meth:`close` is called or
    the program ends. It serves BokehJS itself, so the page needs no
    internet access. With ``filename`` a standalone HTML file with the
    plots is (re)written after every call, BokehJS inlined (about 1.3 MB):
    it opens offline too. With ``serve=False`` and no
    filename the plots are only kept in ``hook.document`` (a
    ``bokeh.document.Document``), e.g. to show in a notebook.

    Needs the optional dependency bokeh
    (``pip install brainstorm-hooks[bokeh]``).

    Parameters
    ----------
    log_names : list[str] or str
        Log entries to plot, in dotted notation
        (``'validation.Accuracy'``, ``'rolling_training.total_loss'``).
    serve : bool
        Whether to run a Bokeh server that shows the plots live.
    port : int
        Port of the server (0 picks a free one; see :attr:`url`).
    address : str
        Address the server listens on (default 'localhost': only this
        machine can connect).
    filename : str, optional
        HTML file written with the plots after every call.
    name : str, optional
        Name of the hook (default: 'BokehVisualizer').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether the server's address is printed; None follows the trainer.

    Attributes
    ----------
    document : bokeh.document.Document
        The document holding the plots (created by ``start``).
    sources : dict
        ``{log_name: ColumnDataSource}`` with the columns ``'x'`` and
        ``'y'``, the points plotted so far.
    url : str or None
        Where the server shows the plots, while it runs.

    Raises
    ------
    ImportError
        When bokeh is not installed.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.BokehVisualizer(
    ...     ['validation.total_loss', 'rolling_training.total_loss']))
    >>> trainer.train(net, getter_tr, valid_getter=getter_va)
    BokehVisualizer >> live plots at http://localhost:5006/
    """

    __undescribed__ = {'document': None, 'sources': None, 'url': None,
                       '_data': None, '_seen': None, '_server': None,
                       '_thread': None, '_sessions': None, '_lock': None}
    __default_values__ = {'serve': True, 'port': 5006,
                          'address': 'localhost', 'filename': None}

    def __init__(self, log_names, serve=True, port=5006, address='localhost',
                 filename=None, name=None, timescale='epoch', interval=1,
                 verbose=None):
        super().__init__(name, timescale, interval, verbose)
        _require('bokeh', 'bokeh', type(self))
        if isinstance(log_names, str):
            log_names = [log_names]
        log_names = list(log_names)
        if not log_names or not all(isinstance(n, str) and
                                    '.' in n.strip('.') for n in log_names):
            raise ValueError(
                "{}: log_names must be a list of '<hook name>.<key>' names "
                "(e.g. ['validation.total_loss']), got {!r}".format(
                    type(self).__name__, log_names))
        if isinstance(port, bool) or not isinstance(port, int) or \
                not 0 <= port < 65536:
            raise ValueError('{}: port must be an integer from 0 to 65535, '
                             'got {!r}'.format(type(self).__name__, port))
        self.log_names = log_names
        self.serve = bool(serve)
        self.port = port
        self.address = str(address)
        self.filename = None if filename is None else str(filename)
        self.document = None
        self.sources = None
        self.url = None
        self._data = None
        self._seen = None
        self._server = None
        self._thread = None
        self._sessions = None
        self._lock = None

    # -- documents ------------------------------------------------------------
    def _build(self, doc, data):
        """Add the figures to ``doc``; return their sources."""
        from bokeh.layouts import column
        from bokeh.models import ColumnDataSource
        from bokeh.plotting import figure
        sources, figures = {}, []
        for log_name in self.log_names:
            source = ColumnDataSource(data={'x': list(data[log_name]['x']),
                                            'y': list(data[log_name]['y'])})
            fig = figure(title=log_name, height=260,
                         sizing_mode='stretch_width',
                         x_axis_label=self.timescale, y_axis_label=log_name)
            fig.line('x', 'y', source=source, line_width=2)
            fig.scatter('x', 'y', source=source, size=5)
            sources[log_name] = source
            figures.append(fig)
        doc.add_root(column(*figures, sizing_mode='stretch_width'))
        doc.title = 'brainstorm: {}'.format(self.__name__)
        return sources

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        _require('bokeh', 'bokeh', type(self))
        if self._lock is None:
            self._lock = threading.Lock()
        if self.document is None:
            from bokeh.document import Document
            self._data = {n: {'x': [], 'y': []} for n in self.log_names}
            self._seen = {n: 0 for n in self.log_names}
            self._sessions = []
            self.document = Document()
            self.sources = self._build(self.document, self._data)
        # a data-parallel job: rank 0 alone serves and writes the page
        if self.serve and self._server is None and is_writer():
            self._start_server()
            self.message('live plots at {}'.format(self.url))

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        x = epoch_nr if self.timescale == 'epoch' else update_nr
        new = {}
        for log_name in self.log_names:
            try:
                entries = lookup_log(logs, log_name)
            except MissingLogError:
                continue     # not logged yet
            if len(entries) < self._seen[log_name]:
                self._seen[log_name] = 0      # the logs of another trainer
            if len(entries) == self._seen[log_name]:
                continue
            self._seen[log_name] = len(entries)
            try:
                y = float(entries[-1])
            except (TypeError, ValueError):
                raise TypeError('{} {!r}: the log {!r} holds {!r}, not a '
                                'number'.format(type(self).__name__,
                                                self.__name__, log_name,
                                                entries[-1])) from None
            new[log_name] = {'x': [x], 'y': [y if math.isfinite(y)
                                             else float('nan')]}
        if not new:
            return
        with self._lock:
            for log_name, points in new.items():
                self._data[log_name]['x'].extend(points['x'])
                self._data[log_name]['y'].extend(points['y'])
                self.sources[log_name].stream(points)
            for doc, sources in self._sessions:
                doc.add_next_tick_callback(partial(_stream, sources, new))
        if self.filename is not None and is_writer():
            self._write_html()

    def _write_html(self):
        from bokeh.embed import file_html
        from bokeh.resources import INLINE
        # BokehJS inlined: the page needs no network (no CDN), so it opens
        # on machines without internet access and from an archive
        html = file_html(self.document.roots[0], INLINE, self.document.title)
        write_bytes_atomically(self.filename, html.encode('utf-8'))

    # -- server ---------------------------------------------------------------
    def _session_document(self, doc):
        with self._lock:
            sources = self._build(doc, self._data)
            entry = (doc, sources)
            self._sessions.append(entry)

        def forget(session_context):
            with self._lock:
                if entry in self._sessions:
                    self._sessions.remove(entry)
        doc.on_session_destroyed(forget)

    def _start_server(self):
        ready = threading.Event()
        result = {}

        def serve():
            import asyncio
            from bokeh.application import Application
            from bokeh.application.handlers.function import FunctionHandler
            from bokeh.server.server import Server
            from tornado.ioloop import IOLoop
            asyncio.set_event_loop(asyncio.new_event_loop())
            loop = IOLoop.current()
            try:
                app = Application(FunctionHandler(self._session_document))
                server = Server({'/': app}, io_loop=loop, port=self.port,
                                address=self.address)
                server.start()
            except Exception as err:  # noqa: BLE001 - reported to start()
                result['error'] = err
                ready.set()
                loop.close(all_fds=True)
                return
            result['server'] = server
            ready.set()
            loop.start()
            loop.close(all_fds=True)

        thread = threading.Thread(target=serve, daemon=True,
                                  name='{} bokeh server'.format(self.__name__))
        thread.start()
        ready.wait()
        if 'error' in result:
            thread.join()
            raise OSError('{} {!r}: the bokeh server could not start on {}:{} '
                          '({})'.format(type(self).__name__, self.__name__,
                                        self.address, self.port,
                                        result['error'])) from result['error']
        self._server, self._thread = result['server'], thread
        self.url = 'http://{}:{}/'.format(self.address, self._server.port)

    def close(self):
        """Stop the Bokeh server (if it runs); the plots in
        :attr:`document` stay."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        self.url = None

        def stop():
            server.stop()
            server.io_loop.stop()
        server.io_loop.add_callback(stop)
        thread.join(timeout=10)
        with self._lock:
            self._sessions = []


def _stream(sources, new):
    for log_name, points in new.items():
        sources[log_name].stream(points)
