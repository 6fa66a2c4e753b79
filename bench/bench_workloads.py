#!/usr/bin/env python
"""Benchmark workloads of shared/bench/WORKLOADS.md: brainstorm's CPU handlers
and, when torch is installed, the same networks in PyTorch CPU, side by side
in one run.

Contenders: NumpyHandler, NumbaHandler (when a plugin registers it) and
PyTorch CPU (when torch can be imported). Each runs in a worker process of
its own, started from this script with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE removed from its environment (they make numpy's OpenBLAS
pick slower kernels); the contenders take turns, one timed block each per
round, so that the drift of a shared machine falls on all of them alike.

One training step = provide_external_data + forward_pass(training_pass=True)
+ backward_pass + one MomentumStepper update (learning_rate 0.01, momentum
0.9). The brainstorm networks are trained by ``bs.Trainer`` on a
``Minibatches`` iterator, stopped by a hook after a number of updates (so
the Trainer skips the input deltas that no parameter needs, as in any
training); PyTorch runs the usual zero_grad / forward / backward / SGD
step loop over the same batches. Reported per workload and contender:

* samples/s and ms/step: median over the timed blocks (a sequence of the
  lstm workload counts as one sample), and the ratio to PyTorch in
  samples/s (above 1: faster than PyTorch);
* GFLOP/s: the matrix-product FLOPs of a step counted from the network
  definition (``flops_per_sample``), divided by the step time, and that as
  a share of the process's float32 GEMM rate (numpy, 2048x2048);
* memory: resident set growth in the worker: "setup MB" from before the
  network and data were built to after, "train MB" the peak during the
  training steps above the resident set after setup (VmHWM, reset through
  /proc/self/clear_refs after setup), "peak MB" the two together.

--scaling adds samples/s over batch size (cnn), sequence length (lstm) and
hidden size (mlp) for every contender.

    python bench/bench_workloads.py [mlp] [cnn] [lstm] [--blocks 7]
        [--handlers NumpyHandler,NumbaHandler] [--no-torch] [--scaling]
        [--json FILE] [--quick]
"""
import argparse
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import time
import traceback

import numpy as np

import brainstorm as bs

# Variables that make OpenBLAS use slower kernels than the processor allows;
# the worker processes run without them.
SLOW_BLAS_VARIABLES = ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')

TORCH = 'PyTorch'
HANDLERS = ('NumpyHandler', 'NumbaHandler')
# samples/s of the NumbaHandler over PyTorch's that the project aims at
TARGETS = {'NumbaHandler': {'mlp': 1.3, 'cnn': 0.8, 'lstm': 1.1}}


# -- workloads ----------------------------------------------------------------
def mlp_brainstorm(batch, hidden=1200, batches=1):
    inp, out = bs.tools.get_in_out_layers('classification', 784, 10)
    net = bs.Network.from_layer(
        inp >> bs.layers.Dropout(0.2) >>
        bs.layers.FullyConnected(hidden, activation='rel') >>
        bs.layers.Dropout(0.5) >>
        bs.layers.FullyConnected(hidden, activation='rel') >>
        bs.layers.Dropout(0.5) >> out)
    net.initialize(bs.initializers.Gaussian(0.01))
    rnd = np.random.RandomState(0)
    n = batch * batches
    data = {'default': rnd.rand(1, n, 784).astype(np.float32),
            'targets': rnd.randint(0, 10, (1, n, 1)).astype(np.float32)}
    return net, data


def mlp_torch(batch, torch, hidden=1200, batches=1):
    nn = torch.nn
    model = nn.Sequential(
        nn.Dropout(0.2), nn.Linear(784, hidden), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(hidden, 10))
    x = torch.rand(batch * batches, 784)
    y = torch.randint(0, 10, (batch * batches,))
    return model, x, y


def cnn_brainstorm(batch, batches=1):
    inp, out = bs.tools.get_in_out_layers('classification', (32, 32, 3), 10)
    layers = inp
    for filters in (32, 32, 64):
        layers = (layers >>
                  bs.layers.Convolution2D(filters, kernel_size=(5, 5),
                                          padding=2, activation='rel') >>
                  bs.layers.Pooling2D(type='max', kernel_size=(3, 3),
                                      stride=(2, 2)))
    net = bs.Network.from_layer(
        layers >> bs.layers.FullyConnected(64, activation='rel') >> out)
    net.initialize(bs.initializers.Gaussian(0.01))
    rnd = np.random.RandomState(0)
    n = batch * batches
    data = {'default': rnd.rand(1, n, 32, 32, 3).astype(np.float32),
            'targets': rnd.randint(0, 10, (1, n, 1)).astype(np.float32)}
    return net, data


def cnn_torch(batch, torch, batches=1):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(32, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(3 * 3 * 64, 64), nn.ReLU(), nn.Linear(64, 10))
    x = torch.rand(batch * batches, 3, 32, 32)
    y = torch.randint(0, 10, (batch * batches,))
    return model, x, y


def _symbols(batch, time_steps=100, n_symbols=205):
    rnd = np.random.RandomState(0)
    return rnd.randint(0, n_symbols, (time_steps + 1, batch))


def lstm_brainstorm(batch, time_steps=100, size=512, batches=1):
    inp, out = bs.tools.get_in_out_layers('classification', 205, 205)
    net = bs.Network.from_layer(inp >> bs.layers.Lstm(size) >> out)
    net.initialize(bs.initializers.Gaussian(0.01))
    symbols = _symbols(batch * batches, time_steps)
    one_hot = np.eye(205, dtype=np.float32)[symbols[:-1]]
    data = {'default': one_hot,
            'targets': symbols[1:, :, None].astype(np.float32)}
    return net, data


class _TorchLstm:
    """nn.LSTM(205, size) and a Linear(size, 205) on every time step."""

    def __init__(self, torch, size=512):
        self.lstm = torch.nn.LSTM(205, size)
        self.fc = torch.nn.Linear(size, 205)

    def parameters(self):
        return list(self.lstm.parameters()) + list(self.fc.parameters())

    def train(self):
        self.lstm.train()
        self.fc.train()

    def __call__(self, x):
        hidden, _ = self.lstm(x)
        return self.fc(hidden).reshape(-1, 205)


def lstm_torch(batch, torch, time_steps=100, size=512, batches=1):
    symbols = torch.from_numpy(_symbols(batch * batches, time_steps))
    x = torch.nn.functional.one_hot(symbols[:-1], 205).float()
    y = symbols[1:].reshape(-1)
    return _TorchLstm(torch, size), x, y


# name: (brainstorm network and data, torch model and data, samples per step)
WORKLOADS = {'mlp': (mlp_brainstorm, mlp_torch, 100),
             'cnn': (cnn_brainstorm, cnn_torch, 100),
             'lstm': (lstm_brainstorm, lstm_torch, 50)}

# the settings of the default run, and of --quick (tiny, for a smoke test)
DEFAULT_PARAMS = {'mlp': {'batch': 100, 'hidden': 1200},
                  'cnn': {'batch': 100},
                  'lstm': {'batch': 50, 'time_steps': 100, 'size': 512}}
QUICK_PARAMS = {'mlp': {'batch': 8, 'hidden': 32},
                'cnn': {'batch': 2},
                'lstm': {'batch': 4, 'time_steps': 5, 'size': 16}}
# --scaling: (label, parameter varied, values); the others as by default
SCALING = {'cnn': ('B', 'batch', (10, 50, 100, 200)),
           'lstm': ('T', 'time_steps', (10, 100, 500)),
           'mlp': ('hidden', 'hidden', (256, 1024, 2048, 4096))}
QUICK_SCALING = {'cnn': ('B', 'batch', (2, 4)),
                 'lstm': ('T', 'time_steps', (3, 6)),
                 'mlp': ('hidden', 'hidden', (16, 32))}


def flops_per_sample(name, params):
    """Floating point operations of the matrix products of one training
    step per sample: 2 per multiply-add; every product counted once forward,
    once for the weight gradient and once for the input deltas, except the
    input deltas of a layer fed by the data, which neither the Trainer nor
    PyTorch computes. Elementwise work (activations, pooling, the LSTM
    gates, the loss) is not counted."""
    products = []   # (multiply-adds per sample, input fed by the data)
    if name == 'mlp':
        hidden = params.get('hidden', 1200)
        products = [(784 * hidden, True), (hidden * hidden, False),
                    (hidden * 10, False)]
    elif name == 'cnn':
        size, channels = 32, 3
        for filters in (32, 32, 64):
            # 5x5 kernels, padding 2, stride 1: same size out
            products.append((size * size * filters * 25 * channels,
                             channels == 3))
            size, channels = (size - 3) // 2 + 1, filters   # max-pool 3 s2
        products += [(size * size * channels * 64, False), (64 * 10, False)]
    elif name == 'lstm':
        steps = params.get('time_steps', 100)
        size = params.get('size', 512)
        products = [(steps * 205 * 4 * size, True),
                    (steps * size * 4 * size, False),
                    (steps * size * 205, False)]
    else:
        raise ValueError(name)
    return sum(2 * macs * (2 if from_data else 3)
               for macs, from_data in products)


def _make_kwargs(name, params):
    return {k: v for k, v in params.items() if k != 'batch'}


# -- step functions (used by the workers, and by bench_gpu.py) ----------------
def _stop_hook_class():
    from brainstorm.hooks import Hook

    class StopAfterUpdates(Hook):
        """Stops the training after ``updates`` updates or once ``seconds``
        have passed (at least one update), counted from ``start``."""

        can_stop_training = True

        def __init__(self):
            super().__init__(timescale='update', verbose=False)
            self.updates, self.seconds = 1, None
            self.done, self.deadline = 0, None

        def start(self, net, stepper, verbose, named_data_iters):
            super().start(net, stepper, verbose, named_data_iters)
            self.done = 0
            self.deadline = None if self.seconds is None else \
                time.perf_counter() + self.seconds

        def __call__(self, epoch_nr, update_nr, net, stepper, logs):
            self.done += 1
            if self.updates is not None and self.done >= self.updates:
                raise StopIteration()
            if self.deadline is not None and \
                    time.perf_counter() >= self.deadline:
                raise StopIteration()
    return StopAfterUpdates


def bs_trainer_function(make, batch, handler=None, batches=2, **kwargs):
    """A function ``train(updates=None, seconds=None)`` that trains the
    workload's network with ``bs.Trainer`` for that many updates (or that
    long) and returns the number of updates done."""
    net, data = make(batch, batches=batches, **kwargs)
    if handler is not None:
        net.set_handler(handler)
    from brainstorm.data_iterators import Minibatches
    iterator = Minibatches(batch_size=batch, shuffle=False, **data)
    stepper = bs.training.MomentumStepper(learning_rate=0.01, momentum=0.9,
                                          scale_learning_rate=False)
    trainer = bs.Trainer(stepper, verbose=False)
    stop = _stop_hook_class()()
    trainer.add_hook(stop)

    def train(updates=None, seconds=None):
        stop.updates, stop.seconds = updates, seconds
        trainer.train(net, iterator)
        return stop.done
    train.net, train.stepper = net, stepper
    return train


def bs_step_function(make, batch):
    """One step of stepper.run() as Trainer.train runs it (bench_gpu.py and
    interactive use; the benchmark itself trains through the Trainer)."""
    net, data = make(batch)
    # as inside Trainer.train with no hook reading them: skip the deltas of
    # the data (no parameter needs them; PyTorch skips them too)
    net.compute_all_deltas = False
    stepper = bs.training.MomentumStepper(learning_rate=0.01, momentum=0.9,
                                          scale_learning_rate=False)
    stepper.start(net)

    def step():
        net.provide_external_data(data)
        stepper.run()
    return step


def torch_trainer_function(make, batch, threads, batches=2, **kwargs):
    """The PyTorch counterpart of bs_trainer_function: SGD with momentum
    over the same number of batches, the loss of every step read back as
    the Trainer reads brainstorm's."""
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model, x, y = make(batch, torch, batches=batches, **kwargs)
    if x.dim() == 3:    # lstm: (T, B, F), targets (T * B,)
        y = y.reshape(x.shape[0], -1)
        pairs = [(x[:, i * batch:(i + 1) * batch].contiguous(),
                  y[:, i * batch:(i + 1) * batch].reshape(-1).contiguous())
                 for i in range(batches)]
    else:
        pairs = [(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch])
                 for i in range(batches)]
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    state = {'next': 0}

    def train(updates=None, seconds=None):
        deadline = None if seconds is None else time.perf_counter() + seconds
        done = 0
        while True:
            xb, yb = pairs[state['next']]
            state['next'] = (state['next'] + 1) % len(pairs)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            done += 1
            if updates is not None and done >= updates:
                return done
            if deadline is not None and time.perf_counter() >= deadline:
                return done
            if len(losses) > 10000:
                del losses[:]
    return train


def torch_step_function(make, batch, threads):
    import torch
    torch.set_num_threads(threads)
    model, x, y = make(batch, torch)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def time_interleaved(steps_by_name, blocks, steps=None, settle=0.5,
                     block_seconds=1.0):
    """Median seconds per step of each step function, all in this process
    (bench_gpu.py).

    The contenders take turns, one timed block each per round. After each
    switch a contender first runs untimed for ``settle`` seconds (at least
    one step): thread pools keep spinning for a while after their last call
    and would otherwise steal the cores from whichever runs next. A timed
    block has ``steps`` steps, or (None) as many as fill about
    ``block_seconds``, judged from the settling steps.
    """
    times = {name: [] for name in steps_by_name}
    for _ in range(blocks):
        for name, step in steps_by_name.items():
            start, done = time.perf_counter(), 0
            while done == 0 or time.perf_counter() < start + settle:
                step()
                done += 1
            per_step = (time.perf_counter() - start) / done
            n = steps or max(2, int(round(block_seconds / per_step)))
            start = time.perf_counter()
            for _ in range(n):
                step()
            times[name].append((time.perf_counter() - start) / n)
    return {name: statistics.median(t) for name, t in times.items()}


# -- worker process -----------------------------------------------------------
def _proc_status():
    """VmRSS and VmHWM in bytes (None where /proc is missing)."""
    try:
        with open('/proc/self/status') as f:
            text = f.read()
    except OSError:
        return None, None
    values = [re.search(key + r':\s+(\d+) kB', text)
              for key in ('VmRSS', 'VmHWM')]
    return tuple(int(v.group(1)) * 1024 if v else None for v in values)


def _reset_peak():
    """Reset VmHWM to the current resident set; False where not allowed."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def _gemm_rate(n, product, make, seconds=0.3, repeats=5):
    """GFLOP/s of an n x n float32 matrix product: median of ``repeats``
    products after ``seconds`` of warming up."""
    a, b = make(n)
    start = time.perf_counter()
    while time.perf_counter() < start + seconds:
        product(a, b)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        product(a, b)
        times.append(time.perf_counter() - start)
    return 2.0 * n ** 3 / statistics.median(times) / 1e9


def _numpy_pair(n):
    rnd = np.random.RandomState(0)
    return (rnd.rand(n, n).astype(np.float32),
            rnd.rand(n, n).astype(np.float32))


def _blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    keys = ('user_api', 'internal_api', 'prefix', 'version', 'architecture',
            'threading_layer', 'num_threads')
    return [{k: lib.get(k) for k in keys if lib.get(k) is not None}
            for lib in threadpool_info()]


class _Worker:
    """The state of one worker process: one contender, one workload."""

    def __init__(self):
        self.train = None
        self.contender = None
        self.rss_before_setup = None
        self.rss_after_setup = None
        self.peak_reset = False

    def _trainer(self, contender, workload, params, threads, batches):
        make_bs, make_torch, _ = WORKLOADS[workload]
        kwargs = _make_kwargs(workload, params)
        if contender == TORCH:
            return torch_trainer_function(make_torch, params['batch'],
                                          threads, batches=batches, **kwargs)
        from brainstorm.plugins import registry
        bs.global_rnd.set_seed(1)
        handler = registry.get('handlers', contender)()
        return bs_trainer_function(make_bs, params['batch'], handler,
                                   batches=batches, **kwargs)

    def setup(self, contender, workload, params, threads, batches):
        """Build the workload. A tiny copy of it is built and trained first
        and thrown away, so that imports, compiled kernels and the
        libraries' caches are in place before the memory is measured."""
        self.contender = contender
        primer = self._trainer(contender, workload, QUICK_PARAMS[workload],
                               threads, 1)
        primer(updates=2)
        del primer
        gc.collect()
        self.rss_before_setup = _proc_status()[0]
        self.train = self._trainer(contender, workload, params, threads,
                                   batches)
        self.rss_after_setup = _proc_status()[0]
        self.peak_reset = _reset_peak()
        reply = {}
        if contender == TORCH:
            import torch
            reply['version'] = torch.__version__
        else:
            handler = self.train.net.handler
            reply['version'] = repr(handler)
            reply['handler_threads'] = getattr(handler, 'num_threads', None)
        return reply

    def warmup(self, updates):
        start = time.perf_counter()
        self.train(updates=updates)
        return {'seconds': time.perf_counter() - start}

    def block(self, settle, block_seconds, steps):
        start = time.perf_counter()
        done = self.train(seconds=settle)
        per_step = (time.perf_counter() - start) / done
        n = steps or max(2, int(round(block_seconds / per_step)))
        start = time.perf_counter()
        done = self.train(updates=n)
        return {'seconds': (time.perf_counter() - start) / done, 'steps': done}

    def memory(self):
        rss, peak = _proc_status()
        if rss is None or self.rss_before_setup is None:
            return {}
        reply = {'setup_bytes': self.rss_after_setup - self.rss_before_setup,
                 'peak_reset': self.peak_reset}
        if self.peak_reset:   # else the peak may be one of before the setup
            reply.update(train_bytes=peak - self.rss_after_setup,
                         peak_bytes=peak - self.rss_before_setup)
        return reply

    def info(self, gemm_size):
        reply = {'blas': _blas_info(), 'numpy': np.__version__}
        if gemm_size:
            reply['numpy_gemm_gflops'] = _gemm_rate(gemm_size, np.dot,
                                                    _numpy_pair)
        numba = sys.modules.get('numba')
        if numba is not None:
            reply['numba'] = numba.__version__
            reply['numba_threads'] = numba.get_num_threads()
            try:
                reply['numba_threading_layer'] = numba.threading_layer()
            except ValueError:   # no parallel kernel has run
                reply['numba_threading_layer'] = None
        if self.contender == TORCH:
            import torch
            config = torch.__config__.show()
            found = re.search(r'BLAS_INFO=(\w+)', config)
            reply['torch_blas'] = found.group(1) if found else None
            reply['torch_mkldnn'] = bool(torch.backends.mkldnn.is_available())
            reply['torch_threads'] = torch.get_num_threads()
            if gemm_size:
                reply['torch_gemm_gflops'] = _gemm_rate(
                    gemm_size, torch.mm,
                    lambda n: tuple(torch.from_numpy(a)
                                    for a in _numpy_pair(n)))
        return reply


def worker_main():
    """Answer the coordinator's requests, one JSON line each, on the
    original stdout; anything the libraries print goes to stderr."""
    channel = os.fdopen(os.dup(1), 'w')
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    worker = _Worker()
    for line in sys.stdin:
        request = json.loads(line)
        command = request.pop('cmd')
        if command == 'quit':
            break
        try:
            reply = getattr(worker, command)(**request)
            reply['ok'] = True
        except Exception:   # reported to the coordinator, which goes on
            reply = {'ok': False, 'error': traceback.format_exc()}
        channel.write(json.dumps(reply) + '\n')
        channel.flush()


# -- coordinator --------------------------------------------------------------
# thread counts of the libraries the contenders use, set by --threads
THREAD_VARIABLES = ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS',
                    'MKL_NUM_THREADS', 'NUMBA_NUM_THREADS',
                    'BRAINSTORM_NUM_THREADS')


def worker_environment(threads=None):
    """This process's environment without the slow-kernel variables, and the
    names removed; with ``threads``, every library's thread count set to
    it."""
    env = dict(os.environ)
    removed = [name for name in SLOW_BLAS_VARIABLES
               if env.pop(name, None) is not None]
    if threads is not None:
        env.update({name: str(threads) for name in THREAD_VARIABLES})
    return env, removed


class WorkerProcess:
    def __init__(self, contender, env):
        self.contender = contender
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), '--worker'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
            text=True, bufsize=1)

    def send(self, cmd, **kwargs):
        self.process.stdin.write(json.dumps(dict(kwargs, cmd=cmd)) + '\n')
        self.process.stdin.flush()

    def receive(self):
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            raise RuntimeError('the {} worker ended (exit status {})'.format(
                self.contender, self.process.returncode))
        reply = json.loads(line)
        if not reply.pop('ok'):
            raise RuntimeError('{} worker: {}'.format(self.contender,
                                                      reply['error']))
        return reply

    def request(self, cmd, **kwargs):
        self.send(cmd, **kwargs)
        return self.receive()

    def close(self):
        try:
            self.send('quit')
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_config(contenders, workload, params, args, env, gemm_size,
               blocks):
    """Time one workload setting for every contender, each in a worker of
    its own. Returns {contender: result dict}; a contender that failed has
    an 'error' entry."""
    results = {c: {} for c in contenders}
    workers = {c: WorkerProcess(c, env) for c in contenders}

    def ask(contender, cmd, **kwargs):
        """The worker's reply; None when it failed (recorded, worker
        closed and left out from then on)."""
        try:
            return workers[contender].request(cmd, **kwargs)
        except RuntimeError as err:
            results[contender]['error'] = str(err)
            workers.pop(contender).close()
            return None

    try:
        # set up side by side (nothing is timed yet), then warm up in turn
        for contender, worker in workers.items():
            worker.send('setup', contender=contender, workload=workload,
                        params=params, threads=args.threads,
                        batches=args.batches)
        for contender in list(workers):
            try:
                results[contender].update(workers[contender].receive())
            except RuntimeError as err:
                results[contender]['error'] = str(err)
                workers.pop(contender).close()
                continue
            ask(contender, 'warmup', updates=args.warmup)
        times = {c: [] for c in workers}
        for _ in range(blocks):
            for contender in list(workers):
                reply = ask(contender, 'block', settle=args.settle,
                            block_seconds=args.block_seconds,
                            steps=args.steps)
                if reply is not None:
                    times[contender].append(reply['seconds'])
        for contender in list(workers):
            seconds = statistics.median(times[contender])
            results[contender].update(
                seconds=seconds, block_seconds=times[contender],
                samples_per_s=params['batch'] / seconds)
            results[contender].update(ask(contender, 'memory') or {})
        for contender in list(workers):
            results[contender]['info'] = ask(contender, 'info',
                                             gemm_size=gemm_size) or {}
    finally:
        for worker in workers.values():
            worker.close()
    return results


def _add_derived(results, workload, params):
    flops = flops_per_sample(workload, params)
    torch_result = results.get(TORCH, {})
    for contender, result in results.items():
        if 'seconds' not in result:
            continue
        result['flops_per_sample'] = flops
        result['gflops'] = flops * result['samples_per_s'] / 1e9
        gemm = result.get('info', {}).get('numpy_gemm_gflops')
        if gemm:
            result['gemm_share'] = result['gflops'] / gemm
        if 'seconds' in torch_result:
            result['vs_torch'] = torch_result['seconds'] / result['seconds']


def _mb(value):
    return '{:.0f}'.format(value / 2 ** 20) if value is not None else '-'


def _describe_libs(blas):
    if blas is None:
        return 'threadpoolctl not installed'
    parts = []
    for lib in blas:
        text = ' '.join(str(lib[k]) for k in ('internal_api', 'version')
                        if lib.get(k))
        if lib.get('architecture'):
            text += ' kernel {}'.format(lib['architecture'])
        text += ', {} threads'.format(lib.get('num_threads'))
        if lib.get('threading_layer'):
            text += ' ({})'.format(lib['threading_layer'])
        parts.append(text.replace('  ', ' '))
    return '; '.join(parts) or 'no BLAS or OpenMP library loaded'


def print_process_info(contender, result, gemm_size):
    info = result.get('info')
    if not info:
        return
    line = '  {:<13} {}'.format(contender, _describe_libs(info['blas']))
    if contender == TORCH:
        line += '; torch {} BLAS {}, oneDNN {}, {} threads'.format(
            result.get('version'), info.get('torch_blas'),
            'on' if info.get('torch_mkldnn') else 'off',
            info.get('torch_threads'))
    elif result.get('handler_threads'):
        line += '; {} with {} threads'.format(result.get('version'),
                                              result['handler_threads'])
    if info.get('numba'):
        line += '; numba {}, {} threads, threading layer {}'.format(
            info['numba'], info.get('numba_threads'),
            info.get('numba_threading_layer') or 'not started')
    print(line)
    rates = []
    if info.get('numpy_gemm_gflops'):
        rates.append('numpy {:.0f}'.format(info['numpy_gemm_gflops']))
    if info.get('torch_gemm_gflops'):
        rates.append('torch.mm {:.0f}'.format(info['torch_gemm_gflops']))
    if rates:
        print('  {:<13} float32 GEMM {}x{}: {} GFLOP/s'.format(
            '', gemm_size, gemm_size, ', '.join(rates)))


class CpuMonitor:
    """How busy the machine's CPUs were with other processes while the
    benchmark ran (from /proc/stat and this process's and its waited-for
    children's CPU times)."""

    def __init__(self):
        self.start = self._read()

    @staticmethod
    def _read():
        try:
            with open('/proc/stat') as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        ticks = os.sysconf('SC_CLK_TCK')
        busy = (sum(fields[:3]) + sum(fields[5:8])) / ticks
        own = os.times()
        return (time.monotonic(), busy, own.user + own.system +
                own.children_user + own.children_system)

    def others_share(self):
        """Share of the CPUs (0..1) used by other processes since start."""
        end = self._read()
        if self.start is None or end is None:
            return None
        elapsed = end[0] - self.start[0]
        others = (end[1] - self.start[1]) - (end[2] - self.start[2])
        return max(0.0, others / (elapsed * (os.cpu_count() or 1)))


TABLE_COLUMNS = ('workload', 'contender', 'samples/s', 'ms/step', 'vs torch',
                 'GFLOP/s', '% GEMM', 'setup MB', 'train MB', 'peak MB',
                 'target')
TABLE_FORMAT = ('{:<8} {:<13} {:>10} {:>9} {:>9} {:>8} {:>7} {:>9} {:>9} '
                '{:>8} {:>9}')


def print_result_rows(workload, results):
    for contender, result in results.items():
        if 'error' in result:
            print(TABLE_FORMAT.format(workload, contender, 'failed', *[''] * 8))
            print('    ' + result['error'].strip().splitlines()[-1])
            continue
        target = TARGETS.get(contender, {}).get(workload)
        target_text = ''
        if target is not None:
            target_text = '>={}'.format(target)
            if 'vs_torch' in result:
                target_text += ' ' + ('met' if result['vs_torch'] >= target
                                      else 'no')
        print(TABLE_FORMAT.format(
            workload, contender,
            '{:.0f}'.format(result['samples_per_s']),
            '{:.2f}'.format(result['seconds'] * 1e3),
            '{:.2f}'.format(result['vs_torch']) if 'vs_torch' in result
            else '-',
            '{:.1f}'.format(result['gflops']),
            '{:.0f}%'.format(100 * result['gemm_share'])
            if 'gemm_share' in result else '-',
            _mb(result.get('setup_bytes')), _mb(result.get('train_bytes')),
            _mb(result.get('peak_bytes')), target_text), flush=True)


def _setting_text(workload, params, scaling):
    label, key, _ = scaling[workload]
    return '{}={}'.format(label, params[key])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('workload_args', nargs='*', metavar='workload',
                        help='one of {} (default: all)'.format(
                            ', '.join(sorted(WORKLOADS))))
    parser.add_argument('--workloads', default=None,
                        help='comma-separated workloads (same as the '
                             'positional arguments)')
    parser.add_argument('--handlers', default=','.join(HANDLERS),
                        help='comma-separated brainstorm handlers (default: '
                             '%(default)s; an unregistered one is reported '
                             'and left out)')
    parser.add_argument('--no-torch', action='store_true',
                        help='leave PyTorch out even where it is installed')
    parser.add_argument('--blocks', type=int, default=None,
                        help='timed blocks per contender (default 7; 3 in '
                             'the scaling tables)')
    parser.add_argument('--steps', type=int, default=None,
                        help='steps per timed block (default: about one '
                             'second of steps)')
    parser.add_argument('--scaling', action='store_true',
                        help='also time every contender over batch size '
                             '(cnn), sequence length (lstm) and hidden size '
                             '(mlp)')
    parser.add_argument('--json', metavar='FILE', default=None,
                        help='write the results to FILE as JSON')
    parser.add_argument('--quick', action='store_true',
                        help='tiny networks and short blocks: checks that '
                             'the benchmark runs, measures nothing useful')
    parser.add_argument('--threads', type=int, default=None,
                        help='threads of every contender: BLAS, OpenMP, '
                             'numba, the handlers\' pools and '
                             'torch.set_num_threads (default: each '
                             'library\'s own, the CPUs available; PyTorch '
                             'gets that many)')
    parser.add_argument('--worker', action='store_true',
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main()
        return 0
    names = list(args.workload_args)
    if args.workloads:
        names += [n.strip() for n in args.workloads.split(',') if n.strip()]
    unknown = set(names) - set(WORKLOADS)
    if unknown:
        parser.error('unknown workload(s) {}; choose from {}'.format(
            ', '.join(sorted(unknown)), ', '.join(sorted(WORKLOADS))))
    names = [n for n in ('mlp', 'cnn', 'lstm') if n in names] or \
        ['mlp', 'cnn', 'lstm']
    aliases = {'numpy': 'NumpyHandler', 'numba': 'NumbaHandler'}
    handlers = [aliases.get(h.strip().lower(), h.strip())
                for h in args.handlers.split(',') if h.strip()]

    if args.quick:
        params_of, scaling = QUICK_PARAMS, QUICK_SCALING
        args.settle, args.block_seconds, args.warmup = 0.02, 0.05, 1
        blocks = args.blocks or 2
        scaling_blocks = args.blocks or 1
        gemm_size = 256
    else:
        params_of, scaling = DEFAULT_PARAMS, SCALING
        args.settle, args.block_seconds, args.warmup = 0.5, 1.0, 2
        blocks = args.blocks or 7
        scaling_blocks = args.blocks or 3
        gemm_size = 2048
    args.batches = 2   # minibatches in the training data of each worker

    from brainstorm.plugins import registry
    contenders, notes = [], []
    for handler in handlers:
        if registry.contains('handlers', handler):
            contenders.append(handler)
        else:
            notes.append('{} is not registered: left out{}'.format(
                handler, ' (install brainstorm-numba)'
                if handler == 'NumbaHandler' else ''))
    torch_version = None
    if not args.no_torch:
        try:
            import torch
            torch_version = torch.__version__
            contenders.append(TORCH)
        except ImportError:
            notes.append('torch is not installed: no PyTorch figures '
                         '(pip install torch==2.13.0 for the side-by-side '
                         'ratio)')
    else:
        notes.append('PyTorch left out (--no-torch)')
    if not contenders:
        parser.error('nothing to run: no contender is available')

    env, removed = worker_environment(args.threads)
    if args.threads is None:
        args.threads = len(os.sched_getaffinity(0))
    print('brainstorm {} benchmark: {}; {} timed blocks per contender, '
          'threads: {}{}'.format(
              bs.__version__ if hasattr(bs, '__version__') else '',
              ', '.join(contenders), blocks, args.threads,
              ' (--quick: tiny sizes, figures meaningless)'
              if args.quick else ''))
    for note in notes:
        print(note)
    print('each contender in a worker process of its own; removed from the '
          "workers' environment: {}".format(
              ', '.join('{}={}'.format(n, os.environ[n]) for n in removed)
              if removed else 'nothing ({} not set)'.format(
                  ', '.join(SLOW_BLAS_VARIABLES))))
    everything = {'contenders': contenders, 'threads': args.threads,
                  'blocks': blocks, 'quick': args.quick,
                  'removed_environment': removed, 'notes': notes,
                  'torch': torch_version, 'workloads': {}, 'scaling': {}}

    monitor = CpuMonitor()
    for workload in names:
        params = dict(params_of[workload])
        config_monitor = CpuMonitor()
        results = run_config(contenders, workload, params, args, env,
                             gemm_size, blocks)
        _add_derived(results, workload, params)
        busy = config_monitor.others_share()
        everything['workloads'][workload] = {
            'params': params, 'results': results,
            'cpu_share_of_other_processes': busy}
        if workload == names[0]:
            print('\nBLAS, kernels and threads of each worker process '
                  '(threadpoolctl):')
            for contender, result in results.items():
                print_process_info(contender, result, gemm_size)
            print('\n' + TABLE_FORMAT.format(*TABLE_COLUMNS))
        print_result_rows(workload, results)
        if busy is not None and busy > 0.1:
            print('    (other processes used {:.0f}% of the CPUs meanwhile)'
                  .format(100 * busy))
    print('vs torch: samples/s over PyTorch\'s; GFLOP/s: matrix-product '
          'FLOPs of the step (flops_per_sample) per second; % GEMM: of the '
          'float32 {0}x{0} numpy product in the same process; setup MB / '
          'train MB: resident set growth while building the network and '
          'data / at the peak of the training steps above that; peak MB: '
          'both'.format(gemm_size))

    if args.scaling:
        print('\nscaling: samples/s (ratio to PyTorch), median of {} blocks'
              .format(scaling_blocks))
        header = '{:<8} {:<12}'.format('workload', 'setting') + ''.join(
            ' {:>18}'.format(c) for c in contenders)
        print(header)
        for workload in names:
            label, key, values = scaling[workload]
            rows = []
            for value in values:
                params = dict(params_of[workload], **{key: value})
                config_monitor = CpuMonitor()
                results = run_config(contenders, workload, params, args, env,
                                     0, scaling_blocks)
                _add_derived(results, workload, params)
                busy = config_monitor.others_share()
                rows.append({'params': params, 'results': results,
                             'cpu_share_of_other_processes': busy})
                cells = []
                for contender in contenders:
                    result = results[contender]
                    if 'samples_per_s' not in result:
                        cells.append('failed')
                    elif 'vs_torch' in result and contender != TORCH:
                        cells.append('{:.0f} ({:.2f})'.format(
                            result['samples_per_s'], result['vs_torch']))
                    else:
                        cells.append('{:.0f}'.format(result['samples_per_s']))
                print('{:<8} {:<12}'.format(
                    workload, _setting_text(workload, params, scaling)) +
                    ''.join(' {:>18}'.format(c) for c in cells), flush=True)
                if busy is not None and busy > 0.1:
                    print('    (other processes used {:.0f}% of the CPUs '
                          'meanwhile)'.format(100 * busy))
                for contender in contenders:
                    if 'error' in results[contender]:
                        print('    {}: {}'.format(contender, results[
                            contender]['error'].strip().splitlines()[-1]))
            everything['scaling'][workload] = rows

    busy = monitor.others_share()
    everything['cpu_share_of_other_processes'] = busy
    if busy is not None:
        print('\nother processes used {:.0f}% of the CPUs during the run{}'
              .format(100 * busy, ': the figures are disturbed, run again on '
                      'a quiet machine' if busy > 0.1 else ''))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(everything, f, indent=1, default=str)
        print('\nresults written to {}'.format(args.json))
    return 0


if __name__ == '__main__':
    sys.exit(main())
