"""Value modifiers: changes applied to parameters after every update (weight
modifiers) or to gradients after every backward pass (gradient modifiers),
manual 8.7. The catalogue comes from plugins (brainstorm-layers):
``bs.value_modifiers.ClipValues(-1, 1)``.
"""
from brainstorm.describable import Describable
from brainstorm.plugins import make_namespace

__all__ = ['ValueModifier']


class ValueModifier(Describable):
    """Base class of value modifiers.

    Subclasses implement ``__call__(handler, view)`` and change ``view`` (an
    array of ``handler``) in place. ``layer_name`` and ``view_name`` are set
    by the network when the modifier is installed, for messages.
    """

    __undescribed__ = {'layer_name': '', 'view_name': ''}

    def __call__(self, handler, view):
        raise NotImplementedError

    def __repr__(self):
        where = '{}.{}'.format(self.layer_name, self.view_name) \
            if getattr(self, 'layer_name', '') else ''
        return '<{} {}>'.format(type(self).__name__, where).replace(' >', '>')


__getattr__, __dir__ = make_namespace('value_modifiers', globals(), __name__)
