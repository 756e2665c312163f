"""A function's deployment package, rebuilt from its code directory: the zip GetFunction's
`Code.Location` downloads, and the `CodeSha256` / `CodeSize` Lambda reports for it.

Lambda reports `CodeSha256` as the base64 of the SHA-256 of the deployment package and
`CodeSize` as its size in bytes (Lambda API reference, FunctionConfiguration). The zip is
built deterministically (sorted entries, fixed timestamps and permissions, no bytecode
caches), so the same code always has the same hash, as an uploaded package does.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

# Zip's earliest representable time: no build clock leaks into the hash.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIPPED_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class CodePackage:
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        """Lambda's `CodeSha256`: base64 (not hex) of the package's SHA-256."""
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode("ascii")


def package_files(code_dir: Path) -> list[Path]:
    """The files of the package, relative to `code_dir`, in a stable order."""
    files = []
    for root, dirs, names in os.walk(code_dir):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in sorted(names):
            if not name.endswith(_SKIPPED_SUFFIXES):
                files.append((Path(root) / name).relative_to(code_dir))
    return sorted(files, key=lambda path: path.as_posix())


def build_package(code_dir: Path) -> CodePackage:
    """The deployment zip of `code_dir`, byte for byte the same for the same files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative in package_files(code_dir):
            info = zipfile.ZipInfo(relative.as_posix(), date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # -rw-r--r--, as Lambda requires readable files
            info.create_system = 3  # Unix, so the permission bits are read
            archive.writestr(info, (code_dir / relative).read_bytes())
    return CodePackage(buffer.getvalue())


class CodePackages:
    """Packages by code directory, built once on first use (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._packages: dict[Path, CodePackage] = {}

    def get(self, code_dir: Path) -> CodePackage:
        with self._lock:
            package = self._packages.get(code_dir)
            if package is None:
                package = build_package(code_dir)
                self._packages[code_dir] = package
            return package
