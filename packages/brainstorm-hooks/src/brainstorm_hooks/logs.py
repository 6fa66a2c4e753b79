"""Looking up trainer log entries by their dotted names."""

__all__ = ['lookup_log', 'MissingLogError']


class MissingLogError(KeyError):
    """A dotted log name that names no log entry."""

    def __str__(self):
        return str(self.args[0]) if self.args else ''


def lookup_log(logs, log_name):
    """Return the list of values logged under the dotted ``log_name``.

    ``log_name`` is ``'<hook name>.<key>'``, where ``<key>`` may itself be a
    dotted path into nested logs (``'validation.Accuracy'``,
    ``'rolling_training.total_loss'``, ``'mon.Output.loss'``). Names that
    contain dots themselves (a hook named ``'val.set'``) are matched too.

    Parameters
    ----------
    logs : dict
        The trainer's logs (``trainer.logs``).
    log_name : str
        The dotted name of the entry.

    Returns
    -------
    list
        The logged values, one per call of the logging hook.

    Raises
    ------
    MissingLogError
        If no entry has that name, or it names a group of entries; the
        message lists what exists.
    """
    entry = _walk(logs, log_name.split('.'))
    if entry is None:
        raise MissingLogError('no log named {!r}; the logs so far are: '
                              '{}'.format(log_name,
                                          ', '.join(_flat_names(logs))
                                          or 'none'))
    if isinstance(entry, dict):
        raise MissingLogError(
            '{!r} is a group of logs, not one entry; name one of: {}'.format(
                log_name, ', '.join(log_name + '.' + n
                                    for n in _flat_names(entry))))
    return entry


def _walk(node, parts):
    # longest key first, so that keys containing dots are found
    for i in range(len(parts), 0, -1):
        key = '.'.join(parts[:i])
        if isinstance(node, dict) and key in node:
            if i == len(parts):
                return node[key]
            found = _walk(node[key], parts[i:])
            if found is not None:
                return found
    return None


def _flat_names(node, prefix=''):
    names = []
    for key, value in node.items():
        if isinstance(value, dict):
            names.extend(_flat_names(value, prefix + key + '.'))
        else:
            names.append(prefix + key)
    return names
