"""Checks of transforms' numeric arguments, run in ``__init__``.

A crop of size 0 or a probability of 2 is a typo in a config: it is refused when
the pipeline is built, naming the transform and the argument, instead of giving
1 x 1 px crops or a crash deep in a data-loader worker.
"""
import numbers

__all__ = ['check_size', 'check_probability', 'check_range', 'check_number']


def check_size(owner, name, value):
    """``value`` as an (H, W) tuple of positive ints (an int means a square)."""
    size = (value, value) if isinstance(value, numbers.Integral) else value
    try:
        size = tuple(size)
    except TypeError:
        size = None
    if size is None or len(size) != 2 or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
            for v in size):
        raise ValueError(f'{owner}: {name} must be a positive int or an (H, W) pair '
                         f'of positive ints, got {value!r}')
    return tuple(int(v) for v in size)


def check_number(owner, name, value, low=None, high=None, low_open=False,
                 integer=False):
    """``value`` as a number within ``low`` .. ``high`` (``low_open``: > ``low``)."""
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        lo = '' if low is None else f"{'>' if low_open else '>='} {low}"
        hi = '' if high is None else f'<= {high}'
        cond = ' and '.join(c for c in (lo, hi) if c)
        raise ValueError(f"{owner}: {name} must be {'an int' if integer else 'a number'}"
                         f"{' ' + cond if cond else ''}, got {value!r}")
    return value


def check_probability(owner, value, name='prob'):
    """``value`` as a probability in [0, 1]."""
    return check_number(owner, name, value, 0, 1)


def check_range(owner, name, value, low=None, high=None, low_open=False):
    """``value`` as an ordered (min, max) pair of numbers within ``low`` .. ``high``."""
    try:
        pair = tuple(value)
    except TypeError:
        pair = ()
    if len(pair) != 2:
        raise ValueError(f'{owner}: {name} must be a (min, max) pair, got {value!r}')
    for v in pair:
        check_number(owner, name, v, low, high, low_open)
    if pair[0] > pair[1]:
        raise ValueError(f'{owner}: {name} must be (min, max) with min <= max, got '
                         f'{value!r}')
    return pair
