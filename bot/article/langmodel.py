"""The language detector's model (py3langid's), loaded once per process and loaded fast.

py3langid ships its model xz-compressed: decompressing it costs about 0.7 s of CPU in every
process that detects a language, which a one-shot ``newsbot summarize`` pays on every run.
The first process therefore keeps a decompressed copy in the cache folder
(``$NEWSBOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsbot``, else ``~/.cache/newsbot``) and
later ones map it from there (under 0.1 s, the check included). The copy:

- is named after the SHA-256 of the model it came from, so a new py3langid makes a new copy
  (copies of other models, and temporary folders of writers that died, are removed once a
  day old);
- is written whole into a temporary folder, then renamed into place: a reader never sees
  half of it, and two processes building it at once both succeed;
- is checked file by file against the SHA-256 sums written with it each time it is read:
  a damaged copy is removed and rebuilt;
- is optional: when the cache folder cannot be written, or the model is not in the layout
  this module knows (another py3langid), the model loads py3langid's own way (slower, the
  same answers).

This is the one module of the article core that touches files, as py3langid's loader does.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The arrays of py3langid's model file (0.4's layout), in the order its identifier takes them.
_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
_MANIFEST = "manifest.json"
# Another model's copy or a temporary folder older than this is no longer in use.
_STALE_S = 86_400

_classifier: Callable[[str], tuple[str, float]] | None = None


def classify(text: str) -> str:
    """The language code py3langid gives ``text`` (the model loads on the first call)."""
    global _classifier
    if _classifier is None:
        _classifier = load_classifier(cache_dir())
    return str(_classifier(text)[0])


def cache_dir() -> Path | None:
    """The folder for the decompressed copy, or None when there is no home to put it in."""
    configured = os.environ.get("NEWSBOT_CACHE_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "newsbot"
    try:
        return Path.home() / ".cache" / "newsbot"
    except RuntimeError:  # no HOME and no passwd entry
        return None


def load_classifier(cache: Path | None) -> Callable[[str], tuple[str, float]]:
    """py3langid's classifier, its model read from the copy under ``cache`` (made when
    missing or damaged; None: no copy), else loaded py3langid's own way."""
    try:
        from py3langid import langid

        source = Path(langid.MODEL_DIR) / langid.MODEL_FILE
        digest = _sha256(source)
    except (ImportError, AttributeError, OSError):
        return _stock()
    copy = cache / f"langid-{digest[:16]}" if cache is not None else None
    arrays = _read_copy(copy) if copy is not None else None
    if arrays is None:
        arrays = _decompress(source)
        if arrays is None:
            return _stock()
        if copy is not None:
            _write_copy(copy, arrays)
    try:
        identifier = langid.LanguageIdentifier(
            arrays["ptc"],
            arrays["pc"],
            arrays["classes"].tolist(),
            memoryview(arrays["nextmove"]),
            arrays["out_feat"].tolist(),
            tk_row=arrays["nextmove_row"].tolist(),
        )
    except (TypeError, ValueError):  # another py3langid's identifier
        return _stock()
    classify_text: Callable[[str], tuple[str, float]] = identifier.classify
    return classify_text


def _stock() -> Callable[[str], tuple[str, float]]:
    import py3langid

    stock: Callable[[str], tuple[str, float]] = py3langid.classify
    return stock


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _decompress(source: Path) -> dict[str, Any] | None:
    """The model's arrays from py3langid's compressed file, or None in another layout."""
    import numpy as np

    try:
        with lzma.open(source) as packed, tempfile.TemporaryFile() as unpacked:
            shutil.copyfileobj(packed, unpacked, length=1 << 20)
            unpacked.seek(0)
            with np.load(unpacked, allow_pickle=False) as data:
                if set(data.files) != set(_ARRAYS):
                    return None
                return {name: data[name] for name in _ARRAYS}
    except (OSError, EOFError, ValueError, lzma.LZMAError, zipfile.BadZipFile):
        return None


def _read_copy(copy: Path) -> dict[str, Any] | None:
    """The arrays of the copy, mapped from its files, or None when it is missing or any
    file does not match its checksum (a damaged copy is removed)."""
    import numpy as np

    if not copy.is_dir():
        return None
    try:
        sums = json.loads((copy / _MANIFEST).read_text(encoding="utf-8"))
        arrays = {}
        for name in _ARRAYS:
            path = copy / f"{name}.npy"
            if _sha256(path) != sums[name]:
                raise ValueError(f"{path} does not match its checksum")
            arrays[name] = np.load(path, mmap_mode="r", allow_pickle=False)
        return arrays
    except (OSError, ValueError, KeyError, TypeError):
        shutil.rmtree(copy, ignore_errors=True)
        return None


def _write_copy(copy: Path, arrays: dict[str, Any]) -> None:
    """Write the copy whole into a temporary folder beside it, then rename it into place;
    remove copies of other models. Nothing is written when the folder is not writable."""
    import numpy as np

    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f"{copy.name}.", dir=copy.parent))
    except OSError:
        return
    try:
        sums = {}
        for name in _ARRAYS:
            path = temp / f"{name}.npy"
            np.save(path, arrays[name], allow_pickle=False)
            sums[name] = _sha256(path)
        (temp / _MANIFEST).write_text(json.dumps(sums), encoding="utf-8")
        os.rename(temp, copy)  # refused when another process put its copy there first
    except OSError:
        pass
    finally:
        shutil.rmtree(temp, ignore_errors=True)  # still there only when the rename failed
    _remove_others(copy)


def _remove_others(copy: Path) -> None:
    """Remove, once a day old, copies of other models and temporary folders of dead writers."""
    stale_before = time.time() - _STALE_S
    try:
        siblings = list(copy.parent.iterdir())
    except OSError:
        return
    for sibling in siblings:
        if sibling == copy or not sibling.name.startswith("langid-"):
            continue
        try:
            if sibling.stat().st_mtime < stale_before:
                shutil.rmtree(sibling, ignore_errors=True)
        except OSError:
            continue
