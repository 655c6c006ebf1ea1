"""confine's exceptions: one hierarchy under `Error`, each also the Python exception it is
a kind of, so that `except TimeoutError` or `except LookupError` catches what it should.
Messages are the CLI's: they name the document and the cause. And its one warning,
`MissedChanges`, which a watch gives where it may have missed states."""

from __future__ import annotations


class Error(Exception):
    """Every error confine raises. Whenever one is raised, nothing was written, except for
    a `StoreError` that says the write may not be durable."""


class LockTimeout(Error, TimeoutError):
    """Another writer held the document's lock past the timeout."""


class NotFound(Error, LookupError):
    """The document, or the key in it, does not exist."""


class InvalidDocument(Error, ValueError):
    """The document (or the text offered for it) is not one in the format its name says:
    strict JSON whose root is an object, or TOML for `*.toml`; the message gives the line
    and column."""


class InvalidName(Error, ValueError):
    """The document's name is refused: absolute, with `..`, a lock or temp file's name, a
    symlink, or outside the store's directory."""


class InvalidKey(Error, ValueError):
    """The key path does not parse."""


class InvalidValue(Error, ValueError):
    """The value given is not acceptable: not strict JSON, not one the document's format
    can hold (TOML has no null, and its integers are 64 bits), or not a number to add."""


class TooLarge(Error, ValueError):
    """The document would be over the store's size limit."""


class TypeMismatch(Error, TypeError):
    """The key runs through or ends at a value of the wrong type (an `incr` of a string, an
    index into an object), or an integer would overflow."""


class Conflict(Error):
    """A compare-and-swap found another revision than the one expected."""


class StoreError(Error, OSError):
    """The storage failed (I/O); `errno` is the operating system's error number (0 where
    there is none)."""

    def __str__(self) -> str:
        return str(self.strerror) if self.strerror is not None else super().__str__()


class InternalError(Error, RuntimeError):
    """confine broke one of its own rules (an edit that did not fit the text it was made
    for): a bug to report, not bad input nor a storage failure. Nothing was written."""


class MissedChanges(UserWarning):
    """A watch may have missed states: the backend could not resume it where it stopped
    (etcd compacted its history meanwhile), so changes in between may not have been given.
    The value given next is the current one. The message says which revisions."""


__all__ = [
    "Conflict",
    "Error",
    "InternalError",
    "InvalidDocument",
    "InvalidKey",
    "InvalidName",
    "InvalidValue",
    "LockTimeout",
    "MissedChanges",
    "NotFound",
    "StoreError",
    "TooLarge",
    "TypeMismatch",
]
