"""Writing files whole: what a command writes is either complete or absent, never half-written,
and never written over what it is still reading."""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager


@contextmanager
def written_whole(path: str | os.PathLike, inputs: tuple = ()):
    """Yield a temporary path beside `path`; when the block ends without an error it replaces
    `path`, otherwise it is removed and `path` is left as it was. Refuses a `path` that is one
    of `inputs` (the files being read)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"output {path!r} is a folder: give a file path")
    for source in inputs:
        if source is not None and os.path.exists(source) and os.path.exists(path) and os.path.samefile(source, path):
            raise ValueError(f"output {path!r} is the input file: give another output path")
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, f"the disk is full: {path} was not written (the old file, if any, is as it "
                                        "was); free some space and run again") from None
        if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):  # about the folder, not the temporary file's name
            raise OSError(e.errno, f"cannot write {path}: {e.strerror.lower()}; give an output path in a folder "
                                   "you can write to") from None
        raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def check_output_file(path: str | os.PathLike, what: str = "output") -> None:
    """Before any work starts: `path` can be written as a file (it is not a folder, and its
    folder can be written to)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{what} {path!r} is a folder: give a file path")
    check_writable(os.path.dirname(path), f"the folder of {what}")


def check_writable(folder: str | os.PathLike, what: str = "output folder") -> None:
    """Make sure `folder` exists (creating it) and a file can be written in it, before any work
    starts: a folder under a file, a read-only one or a full disk is named at once."""
    folder = os.fspath(folder) or "."
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"{what} {folder!r} is a file; give a folder")
    probe = os.path.join(folder, f".pixlm-write-check.{os.getpid()}")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(probe, "wb") as f:
            f.write(b"\0" * 4096)  # a page: a disk with no room left refuses it
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        reason = "the disk is full" if e.errno == errno.ENOSPC else (e.strerror or type(e).__name__).lower()
        raise ValueError(f"cannot write to {what} {folder!r}: {reason}") from None
    finally:
        if os.path.exists(probe):
            os.remove(probe)


def read_text(path: str | os.PathLike, what: str = "file") -> str:
    """The text of a UTF-8 file (a byte-order mark dropped). A file that is not UTF-8 is an
    error naming its line and column, not text with replacement characters."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} {path!r} does not exist")
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ValueError(f"{path}:{line}:{column}: not UTF-8 (byte 0x{data[e.start]:02x}); convert the file to UTF-8, "
                         "e.g. iconv -f latin1 -t utf-8") from None


def read_lines(path: str | os.PathLike, what: str = "file") -> list[str]:
    """The lines of a UTF-8 text file, split as Python's text files split them (\\n, \\r\\n or
    \\r), without their line breaks; a last line break ends a line, it does not start one."""
    lines = read_text(path, what).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines
