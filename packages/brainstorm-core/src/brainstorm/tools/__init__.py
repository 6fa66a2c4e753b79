"""Tools (manual 8.3): helpers to build, run and inspect networks.

* building: :func:`get_in_out_layers`, :func:`create_net_from_spec` (and
  :func:`parse_spec` / :class:`SpecError` of its spec language);
* running: :func:`evaluate`, :func:`extract`, :func:`extract_and_save`;
* inspecting: :func:`get_network_info`, :func:`print_network_info`,
  :func:`draw_network`;
* preparing data: :func:`shuffle_data`, :func:`split`.
"""
from brainstorm.tools.data import shuffle_data, split
from brainstorm.tools.info import (draw_network, get_network_info,
                                   print_network_info)
from brainstorm.tools.networks import create_net_from_spec, get_in_out_layers
from brainstorm.tools.running import evaluate, extract, extract_and_save
from brainstorm.tools.spec import SpecError, SpecLayer, parse_spec

__all__ = ['get_in_out_layers', 'create_net_from_spec', 'parse_spec',
           'SpecError', 'SpecLayer', 'evaluate', 'extract',
           'extract_and_save', 'get_network_info', 'print_network_info',
           'draw_network', 'shuffle_data', 'split']
