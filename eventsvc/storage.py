"""Where uploaded documents live. Small on purpose: an S3-compatible backend needs only
`save`, `open` and `delete` with the same meaning."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO, Protocol


class StorageFull(OSError):
    """The file could not be written (no space, read-only, no permission); nothing is left behind."""


class DocumentStorage(Protocol):
    def save(self, stream: IO[bytes]) -> tuple[str, int]: ...  # (key, size in bytes)
    def open(self, key: str) -> IO[bytes]: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under the instance folder, named by random keys: never by what was uploaded."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def save(self, stream: IO[bytes]) -> tuple[str, int]:
        key = secrets.token_hex(16)
        partial = self.root / f"{key}.part"
        size = 0
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as target:
                while chunk := stream.read(1024 * 1024):
                    target.write(chunk)
                    size += len(chunk)
            os.replace(partial, self.root / key)
        except OSError as error:
            try:
                partial.unlink(missing_ok=True)
            except OSError:  # the folder itself is gone or not a folder: nothing was left there
                pass
            raise StorageFull(str(error)) from error
        return key, size

    def open(self, key: str) -> IO[bytes]:
        if not key.isalnum():
            raise FileNotFoundError(key)
        return open(self.root / key, "rb")

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)
