"""Hard-link byte-identical files under a directory, so an image layer stores each once.

collectstatic with whitenoise's manifest storage keeps every file under the name its
app ships and under its content-hashed name, plus a gzipped copy of each; for most
files (every source map, most scripts) the two are the same bytes. Linking them
keeps every URL working (the admin's scripts build unhashed icon URLs, so the
unhashed copies cannot simply go) and stores each content once.

Build time only (Dockerfile): python docker/link_duplicates.py /app/staticfiles
"""

import hashlib
import os
import sys
from pathlib import Path


def link_duplicates(root: Path) -> tuple[int, int]:
    """Replace each later copy of a file's bytes with a hard link to the first.

    Returns (files linked, bytes no longer stored twice).
    """
    first: dict[tuple[int, str], Path] = {}
    linked = saved = 0
    for path in sorted(
        p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
    ):
        size = path.stat().st_size
        key = (size, hashlib.sha256(path.read_bytes()).hexdigest())
        original = first.setdefault(key, path)
        if original == path or os.path.samefile(original, path):
            continue
        temporary = path.with_name(f".{path.name}.link")
        os.link(original, temporary)
        os.replace(temporary, path)  # atomic: the name never goes missing
        linked += 1
        saved += size
    return linked, saved


if __name__ == "__main__":
    directory = Path(sys.argv[1])
    files, size = link_duplicates(directory)
    sys.stdout.write(
        f"{directory}: {files} duplicate files hard-linked, {size / 1e6:.1f} MB stored once\n"
    )
