"""A table's files: its path or glob expanded, and kept inside the export root.

Every command reads (and erasure, correction and retention rewrite) a table's files through
`resolve_files`, at run time, since a glob can match files that appear later. A file whose
real location, after following symbolic links, is outside the export root is refused, and
so is a file that is itself a link or sits in a linked folder, unless the catalog allows
links (even then it must resolve inside the root). The root is the catalog file's folder,
or the folder the catalog names with `export_root`.
"""

from __future__ import annotations

from pathlib import Path

from dsar.errors import ExportPathError

_GLOB = "*?["

_OUTSIDE_FIX = (
    "keep the table's files inside the export root, or name a folder that holds them all"
    " at the top of the catalog: export_root: ../exports (relative to the catalog file)"
)
_LINK_FIX = (
    "replace the link with the file or folder itself, or allow links that stay inside the"
    " export root at the top of the catalog: allow_symlinks: true"
)


def resolve_files(
    root: Path,
    pattern: str,
    table: str | None = None,
    *,
    boundary: Path | None = None,
    allow_symlinks: bool = False,
) -> list[Path]:
    """The files a table path or glob names, sorted; relative paths are taken from `root`.

    Args:
        root: The catalog's folder.
        pattern: The table's path or glob, as the catalog gives it.
        table: The table's name, for messages.
        boundary: The export root every file must resolve inside (default: `root`).
        allow_symlinks: Accept files and folders that are symbolic links (inside the root).

    Raises:
        ExportPathError: the path leads outside the export root, or a file is a symbolic
            link (or lies in a linked folder) and links are not allowed.
    """
    if "\x00" in pattern:
        return []  # no file can have such a name (and the OS refuses to look one up)
    root = root.resolve()
    bound = root if boundary is None else boundary.resolve()
    path = root / pattern  # an absolute pattern stays absolute
    glob = any(ch in pattern for ch in _GLOB)
    # the folder the pattern fixes, before any wildcard: it must not lead out, even when
    # nothing matches yet (the files may appear later)
    fixed = Path(*_until_glob(Path(pattern).parts)) if glob else Path(pattern)
    real = (root / fixed).resolve()
    if not real.is_relative_to(bound):
        raise ExportPathError(
            table,
            f"the path {pattern!r} resolves to {real}, outside the export root {bound}",
            _OUTSIDE_FIX,
        )
    if not glob:
        files = [path] if path.is_file() else []
    else:
        anchor = Path(path.anchor)
        files = sorted(
            p
            for p in anchor.glob(str(path.relative_to(anchor)))
            # hidden files and the originals an erasure keeps are never part of a table
            if p.is_file() and not p.name.startswith(".") and ".before-" not in p.name
        )
    links: dict[Path, Path | None] = {}
    for file in files:
        _check_file(file, table, bound, (bound, root), allow_symlinks, links)
    return files


def _until_glob(parts: tuple[str, ...]) -> list[str]:
    fixed: list[str] = []
    for part in parts:
        if any(ch in part for ch in _GLOB):
            break
        fixed.append(part)
    return fixed


def _check_file(
    file: Path,
    table: str | None,
    bound: Path,
    areas: tuple[Path, ...],
    allow_symlinks: bool,
    links: dict[Path, Path | None],
) -> None:
    real = file.resolve()
    if not real.is_relative_to(bound):
        raise ExportPathError(
            table,
            f"the file {file} resolves to {real}, outside the export root {bound}",
            _OUTSIDE_FIX,
        )
    if allow_symlinks:
        return
    if file.is_symlink():
        raise ExportPathError(table, f"the file {file} is a symbolic link", _LINK_FIX)
    link = _folder_link(file.parent, areas, links)
    if link is not None:
        raise ExportPathError(
            table,
            f"the file {file} lies in a linked folder ({link} is a symbolic link)",
            _LINK_FIX,
        )


def _folder_link(
    folder: Path, areas: tuple[Path, ...], seen: dict[Path, Path | None]
) -> Path | None:
    """A symbolic link among `folder` and the folders above it that lives in one of `areas`
    (the export root, the catalog's folder); links above them (a system's /var, say) are
    not the export's. Cached per folder: a glob's files share their folders."""
    if folder in seen:
        return seen[folder]
    link: Path | None = None
    if folder.is_symlink() and any(folder.parent.resolve().is_relative_to(a) for a in areas):
        link = folder
    elif folder.parent != folder:
        link = _folder_link(folder.parent, areas, seen)
    seen[folder] = link
    return link
