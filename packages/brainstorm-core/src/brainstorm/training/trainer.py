"""The Trainer: runs a stepper over the training data and calls hooks."""
import math
from collections import OrderedDict

import numpy as np

from brainstorm.describable import Describable
from brainstorm.scorers import gather_scores_of_batch

__all__ = ['Trainer']


class Trainer(Describable):
    """Organises the training of a network (manual 8.2).

    Parameters
    ----------
    stepper : TrainingStepper
        How parameters are updated.
    verbose : bool
        Whether logs are printed.

    Attributes
    ----------
    logs : dict
        Everything hooks logged, ``logs[hook_name][key]`` a list with one
        value per call (nested dicts for nested logs); 'rolling_training'
        holds the mean training loss (and ``train_scorers``) per epoch.
    train_scorers : list[Scorer]
        Scorers evaluated on the training batches as they pass.
    """

    __undescribed__ = {'current_epoch_nr': 0, 'current_update_nr': 0,
                       'logs': {}, 'should_stop': False}

    def __init__(self, stepper, verbose=True):
        self.stepper = stepper
        self.verbose = verbose
        self.hooks = OrderedDict()
        self.train_scorers = []
        self.current_epoch_nr = 0
        self.current_update_nr = 0
        self.logs = {}
        self.should_stop = False

    def add_hook(self, hook):
        """Add a hook; hooks are called in the order they were added.

        Raises
        ------
        ValueError
            If a hook with the same name was already added.
        """
        name = hook.__name__
        if name in self.hooks:
            raise ValueError('a hook named {!r} was already added; give the '
                             'new one another name=...'.format(name))
        self.hooks[name] = hook

    def train(self, net, training_data_iter, **named_data_iters):
        """Train ``net`` on ``training_data_iter`` until a hook stops it.

        Parameters
        ----------
        net : Network
        training_data_iter : DataIterator
        **named_data_iters : DataIterator
            Further iterators hooks refer to by name (e.g. 'valid_getter').
        """
        if 'training_data_iter' in named_data_iters:
            raise ValueError("'training_data_iter' is reserved for the "
                             'training data')
        named_data_iters = dict(named_data_iters,
                                training_data_iter=training_data_iter)
        self.stepper.start(net)
        self.should_stop = False
        for hook in self.hooks.values():
            hook.start(net, self.stepper, self.verbose, named_data_iters)
        if self.current_epoch_nr == 0:
            self._emit_hooks(net, 'epoch')
        while not self.should_stop:
            self.current_epoch_nr += 1
            losses, scores = [], {s.__name__: [] for s in self.train_scorers}
            for data in training_data_iter(handler=net.handler):
                net.provide_external_data(data)
                self.stepper.run()
                losses.append(net.get_loss_values()['total_loss'])
                for scorer in self.train_scorers:
                    scores[scorer.__name__].append(
                        gather_scores_of_batch(net, scorer, data))
                self.current_update_nr += 1
                self._emit_hooks(net, 'update')
                if self.should_stop:
                    break
            rolling = OrderedDict(
                [('total_loss', float(np.mean(losses)) if losses
                  else math.nan)])
            for scorer in self.train_scorers:
                rolling[scorer.__name__] = scorer.aggregate(
                    scores[scorer.__name__])
            self._add_log('rolling_training', rolling)
            if not self.should_stop:
                self._emit_hooks(net, 'epoch')
        return self.logs

    def _emit_hooks(self, net, timescale):
        count = self.current_epoch_nr if timescale == 'epoch' \
            else self.current_update_nr
        printed_header = False
        for name, hook in self.hooks.items():
            if hook.timescale != timescale or count % hook.interval:
                continue
            try:
                result = hook(self.current_epoch_nr, self.current_update_nr,
                              net, self.stepper, self.logs)
            except StopIteration as stop:
                self.should_stop = True
                verbose = hook.run_verbosity if hook.run_verbosity \
                    is not None else self.verbose
                if verbose and stop.args:
                    print('{} >> {}'.format(name, stop.args[0]))
                continue
            if result:
                verbose = hook.run_verbosity if hook.run_verbosity \
                    is not None else self.verbose
                if verbose and timescale == 'epoch' and not printed_header:
                    self._print_header()
                    printed_header = True
                self._add_log(name, result, verbose)

    def _print_header(self):
        print('-' * 20 + ' epoch {:>3} '.format(self.current_epoch_nr) +
              '-' * 20 + ' update {} '.format(self.current_update_nr))

    def _add_log(self, name, value, verbose=False, logs=None, indent=0):
        logs = self.logs if logs is None else logs
        if isinstance(value, dict):
            if verbose:
                print('  ' * indent + '{}:'.format(name))
            sub = logs.setdefault(name, OrderedDict())
            for key, val in value.items():
                self._add_log(key, val, verbose, sub, indent + 1)
        else:
            logs.setdefault(name, []).append(value)
            if verbose:
                print('  ' * indent + '{}: {}'.format(name, _fmt(value)))


def _fmt(value):
    if isinstance(value, float):
        return '{:.6g}'.format(value)
    return str(value)
