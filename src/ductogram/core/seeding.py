"""Random generators. Every stochastic function in ductogram takes ``rng``, a
:class:`numpy.random.Generator` or an int seed, and never touches global random state."""

from __future__ import annotations

import numpy as np

RNGLike = np.random.Generator | int | None


def as_generator(rng: RNGLike) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` for ``rng``.

    Parameters
    ----------
    rng : numpy.random.Generator or int or None
        A generator (returned unchanged), an int seed, or None (fresh OS entropy).

    Raises
    ------
    TypeError
        If ``rng`` is none of the above (a float or a legacy ``RandomState``, say).

    Examples
    --------
    >>> a = as_generator(3).integers(0, 100, 3)
    >>> b = as_generator(3).integers(0, 100, 3)
    >>> bool((a == b).all())
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, int | np.integer) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng = {rng!r}: expected a numpy.random.Generator, an int seed or None")
