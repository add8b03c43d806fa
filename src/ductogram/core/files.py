"""Writing files so that a failure never leaves half-written output.

The text goes to a temporary file in the target's folder, is flushed to disk, and then
replaces the target in one step (:func:`os.replace`, atomic on POSIX and Windows when both
names are on the same file system). Readers see the old file or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

__all__ = ["write_json_atomic", "write_text_atomic"]


def write_text_atomic(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        Target file. Its folder must exist; an existing file is replaced.
    text : str
        Content to write.
    encoding : str, optional
        Text encoding (default UTF-8).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        If ``text`` is not a ``str``.
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ductogram.core.files import write_text_atomic
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_text_atomic(pathlib.Path(d) / "a.txt", "hello")
    ...     p.read_text()
    'hello'
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {str(folder)!r} for {target.name!r} does not exist")
    data = text.encode(encoding)
    tmp = folder / f".{target.name}.{secrets.token_hex(6)}.tmp"
    # O_EXCL: never clobber another writer's temporary file; mode 0o666 lets the umask decide.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_json_atomic(path: str | os.PathLike[str], obj: object, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as strict JSON to ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        Target file. Its folder must exist; an existing file is replaced.
    obj : object
        JSON-ready data (dicts, lists, str, int, float, bool, None). NaN and infinity are
        refused, as strict JSON has no such values: write them as ``None`` (null).
    indent : int or None, optional
        Indentation of the output (default 2); None for one line.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If ``obj`` holds NaN or infinity. Nothing is written.
    TypeError
        If ``obj`` holds a value JSON cannot encode (a NumPy array, a set, ...). Nothing is
        written.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> from ductogram.core.files import write_json_atomic
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_json_atomic(pathlib.Path(d) / "a.json", {"n": 1, "r": None})
    ...     json.loads(p.read_text())
    {'n': 1, 'r': None}
    """
    try:
        text = json.dumps(obj, indent=indent, allow_nan=False, ensure_ascii=False)
    except ValueError as exc:
        raise ValueError(
            f"cannot write {os.fspath(path)!r}: {exc}; replace NaN or infinity by None"
        ) from exc
    except TypeError as exc:
        raise TypeError(
            f"cannot write {os.fspath(path)!r}: {exc}; convert arrays with .tolist()"
        ) from exc
    return write_text_atomic(path, text + "\n")
