"""Writing files so that a failure never leaves half-written output.

The text goes to a temporary file in the target's folder, is flushed to disk, and then
replaces the target in one step (:func:`os.replace`, atomic on POSIX and Windows when both
names are on the same file system). Readers see the old file or the new one, never a mix.

A whole output folder is written the same way by :func:`atomic_directory`: everything goes
into a temporary sibling folder, which is renamed into place only when every file is done.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_directory",
    "check_output_directory",
    "json_safe",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        Target file. Its folder must exist; an existing file is replaced.
    data : bytes
        Content to write.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        If ``data`` is not ``bytes`` (or ``bytearray``, ``memoryview``).
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ductogram.core.files import write_bytes_atomic
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_bytes_atomic(pathlib.Path(d) / "a.bin", b"\\x89PNG").read_bytes()
    b'\\x89PNG'
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {str(folder)!r} for {target.name!r} does not exist")
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
    return write_bytes_atomic(path, text.encode(encoding))


def json_safe(obj: Any) -> Any:
    """``obj`` with every NaN and infinity (a figure with nothing to count) made ``None``,
    in nested dicts, lists and tuples (tuples become lists), for
    :func:`write_json_atomic`.

    >>> json_safe({"rate": float("nan"), "ci": (0.5, float("inf"))})
    {'rate': None, 'ci': [0.5, None]}
    """
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


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


def check_output_directory(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Check that ``path`` may be written as a new output folder.

    Parameters
    ----------
    path : str or path-like
        The output folder.
    overwrite : bool, optional
        Whether an existing, non-empty folder may be replaced (default False).

    Returns
    -------
    pathlib.Path
        ``path``, made absolute.

    Raises
    ------
    FileExistsError
        If ``path`` is a non-empty folder and ``overwrite`` is False, or is a file.
    """
    target = Path(path).absolute()
    if target.exists() or target.is_symlink():
        if not target.is_dir() or target.is_symlink():
            raise FileExistsError(f"output folder {str(target)!r} exists and is not a folder")
        if not overwrite and any(target.iterdir()):
            raise FileExistsError(
                f"output folder {str(target)!r} exists and is not empty; "
                "choose another folder or allow overwriting (--force)"
            )
    return target


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Write an output folder all at once.

    The ``with`` block writes into a temporary sibling folder (``.<name>.<random>.tmp``,
    on the same file system); when it ends without an exception that folder is renamed to
    ``path``. On an exception the temporary folder, and any parent folders created for it,
    are removed, and ``path`` is left as it was.

    Parameters
    ----------
    path : str or path-like
        The output folder. Missing parent folders are created.
    overwrite : bool, optional
        Replace an existing, non-empty folder (default False). The old folder is moved
        aside, the new one renamed into place, then the old one deleted: readers see the
        old folder or the new one, never a mix (on POSIX there is a moment, between the
        two renames, when neither is there).

    Yields
    ------
    pathlib.Path
        The temporary folder to write into.

    Raises
    ------
    FileExistsError
        If ``path`` is a non-empty folder and ``overwrite`` is False, or is a file; checked
        before the block runs and again before the rename.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ductogram.core.files import atomic_directory
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = pathlib.Path(d) / "case"
    ...     with atomic_directory(out) as tmp:
    ...         _ = (tmp / "a.txt").write_text("x")
    ...     sorted(p.name for p in out.iterdir())
    ['a.txt']
    """
    target = check_output_directory(path, overwrite=overwrite)
    created: list[Path] = []
    for parent in reversed(target.parents):
        if not parent.exists():
            parent.mkdir()
            created.append(parent)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    tmp.mkdir()
    try:
        yield tmp
        check_output_directory(target, overwrite=overwrite)
        if target.exists():
            old = target.parent / f".{target.name}.{secrets.token_hex(6)}.old"
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for parent in reversed(created):
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise
