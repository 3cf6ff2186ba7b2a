"""A user's files in the work store: one folder per user, named by a hash of the user id, and the
checks that keep every path the store accepts or hands out inside the right folder."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path, PurePosixPath

from sceneshop.tools.errors import InputError, SceneshopError
from sceneshop.tools.imageio import write_atomic

_CHUNK = 1 << 20


def user_key(user: str) -> str:
    # Hashed, as in the recipe memory's thumbnails: a user id never becomes a path component.
    return hashlib.sha256(user.encode()).hexdigest()[:20]


class UserFiles:
    """The folder <files_root>/<hash of user> and the files in it. Paths are stored relative to it
    (so the data dir can move) and always as posix text."""

    def __init__(self, files_root: Path, user: str) -> None:
        self.files_root = files_root.resolve()
        self.folder = self.files_root / user_key(user)

    def relative(self, path: str | Path) -> str | None:
        """`path` relative to this user's folder; None when it lies outside the store (the caller
        copies it in). A path inside another user's folder is refused, never read."""
        resolved = Path(path).expanduser().resolve()
        if resolved.is_relative_to(self.folder):
            return resolved.relative_to(self.folder).as_posix()
        if resolved.is_relative_to(self.files_root):
            raise InputError(f"{path} belongs to another user's files; a session can only hold its own")
        return None

    def absolute(self, rel: str) -> Path:
        """The file a stored relative path names; a stored path that would leave the folder is an error."""
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
            raise SceneshopError(f"the work store holds a bad file path {rel!r}; it was ignored")
        return self.folder.joinpath(*parts)

    def copy_in(self, source: str | Path, into: str, kind: str) -> str:
        """Copies `source` into the sub-folder `into` as `<kind>-<hash of content><suffix>` (so
        saving the same photo twice keeps one copy, and a product photo never shares a file with a
        result that expires), and returns the relative path. The copy is atomic."""
        src = Path(source).expanduser()
        digest = hashlib.sha256()
        try:
            with open(src, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            raise InputError(f"{source} does not exist; it cannot be kept with the session") from None
        except IsADirectoryError:
            raise InputError(f"{source} is a folder, not a file") from None
        except OSError as exc:
            raise InputError(f"{source} cannot be read ({exc.strerror or exc})") from None
        rel = f"{into}/{kind}-{digest.hexdigest()[:24]}{src.suffix.lower()}"
        target = self.absolute(rel)
        if not target.exists():
            self._copy(src, target)
        return rel

    def write(self, data: bytes, into: str, name: str) -> str:
        """Writes `data` as `into/name` atomically and returns the relative path."""
        if not name or "/" in name or name in (".", ".."):
            raise InputError(f"{name!r} is not a file name")
        rel = f"{into}/{name}"
        write_atomic(self.absolute(rel), data)
        return rel

    @staticmethod
    def _copy(src: Path, target: Path) -> None:
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, tmp)
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SceneshopError(
                f"could not copy {src} into the work store at {target.parent} ({exc.strerror or exc}); "
                "check free disk space and permissions"
            ) from None
