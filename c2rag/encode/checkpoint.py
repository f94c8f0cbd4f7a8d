"""Finding a checkpoint on disk or on the Hugging Face hub, and reading what it says about itself.

A model argument is a local directory or a hub id. A directory may be a plain transformers
checkpoint, an official C2LLM checkpoint, or a sentence-transformers directory whose
``modules.json`` points at the transformer and whose ``1_Pooling/config.json`` names the pooling.
Only safetensors are read: pickled ``*.bin`` weights can run code when loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from c2rag.errors import ModelLoadError

__all__ = [
    "Checkpoint",
    "hub_offline",
    "local_config",
    "locate",
    "read_json",
    "snapshot",
    "weight_files",
]

logger = logging.getLogger(__name__)

# Files a model needs; never the pickled weights or the ONNX/OpenVINO exports some repos carry.
_HUB_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken", "1_Pooling/*"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_SNAPSHOT_HASH = re.compile(r"^[0-9a-f]{40}$")
# Samples read from each weight file for the identity digest of a local directory: spread
# over the whole file so that a fine-tune touching only some layers still changes the digest.
_SAMPLES, _SAMPLE_BYTES = 64, 16 << 10


@dataclass(frozen=True)
class Checkpoint:
    """A located checkpoint and what its files say."""

    model_dir: Path
    """Directory holding ``config.json`` and the weights."""
    name: str
    """Display name: the hub id, or the directory name."""
    identity: str
    """``name@revision`` for the hub cache, ``local@digest`` for a local directory: the digest
    covers the config and the weights, not the folder's name or place, so a copy elsewhere is
    the same model and any change to the weights is another (part of the encoder fingerprint)."""
    config: dict[str, Any]
    """Parsed ``config.json``."""
    root: Path
    """Directory that was given or downloaded (differs from ``model_dir`` for a
    sentence-transformers directory whose transformer sits in a sub-folder)."""
    pooling: str | None = None
    """Pooling named by ``1_Pooling/config.json``, if any."""
    max_seq_length: int | None = None
    """``max_seq_length`` of ``sentence_bert_config.json``, if any."""
    legacy_identity: str | None = None
    """The identity c2rag 0.1 gave the same local directory (``dirname@digest``), so that
    indexes and cached vectors it wrote are still recognised as this model's."""


def hub_offline() -> bool:
    """Whether hub access is switched off (``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE``).

    Read at call time, unlike ``huggingface_hub.constants`` which reads it at import.
    """
    from huggingface_hub import constants

    flags = (os.environ.get("HF_HUB_OFFLINE"), os.environ.get("TRANSFORMERS_OFFLINE"))
    return constants.HF_HUB_OFFLINE or any(
        (flag or "").strip().upper() in {"1", "ON", "YES", "TRUE"} for flag in flags
    )


def read_json(path: Path) -> dict[str, Any]:
    """Parse a JSON file, turning any failure into a :class:`ModelLoadError` naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"cannot read {path}: {exc}"
        raise ModelLoadError(msg) from exc
    if not isinstance(data, dict):
        msg = f"{path} does not hold a JSON object"
        raise ModelLoadError(msg)
    return data


def snapshot(
    repo_id: str, *, revision: str | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Directory of a hub repository's files: from the local cache, downloading when allowed.

    Raises:
        ModelLoadError: When the files are neither cached nor downloadable; the message says
            how to use a local copy instead.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError

    offline = hub_offline()
    try:
        path = snapshot_download(
            repo_id,
            revision=revision,
            cache_dir=cache_dir,
            allow_patterns=_HUB_PATTERNS,
            local_files_only=offline,
        )
    except HFValidationError as exc:
        msg = f"{repo_id!r} is neither an existing directory nor a valid hub id: {exc}"
        raise ModelLoadError(msg) from exc
    except Exception as exc:  # the hub client raises many types (HTTP, offline, not found)
        reason = (
            "hub access is off (HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE) and the files are not in "
            "the local Hugging Face cache"
            if offline
            else f"it could not be downloaded ({type(exc).__name__}: {exc})"
        )
        msg = (
            f"cannot load model {repo_id!r}: {reason}. To use a local copy, pass its directory "
            "as the model (e.g. Encoder('/path/to/C2LLM-0.5B')) or set C2RAG_MODEL to it; "
            "or download it once where the hub is reachable "
            f"(`hf download {repo_id}`) and set HF_HUB_OFFLINE=1 to use the cache."
        )
        raise ModelLoadError(msg) from exc
    return Path(path)


def _hub_identity(directory: Path) -> str | None:
    """``org/name@sha`` when ``directory`` is a snapshot inside a Hugging Face cache."""
    parts = directory.resolve().parts
    if len(parts) >= 3 and parts[-2] == "snapshots" and parts[-3].startswith("models--"):
        repo_id = parts[-3].removeprefix("models--").replace("--", "/")
        return f"{repo_id}@{parts[-1]}"
    return None


def weight_files(model_dir: Path) -> list[Path]:
    """The safetensors files of a checkpoint (all shards of a sharded one).

    Raises:
        ModelLoadError: When there are none (naming what was looked for), or only pickled
            ``.bin`` weights, which c2rag refuses to load.
    """
    index = model_dir / "model.safetensors.index.json"
    if index.is_file():
        weight_map = read_json(index).get("weight_map", {})
        names = sorted({str(name) for name in weight_map.values()})
        foreign = [name for name in names if not name.endswith(".safetensors")]
        if foreign:
            msg = (
                f"{index} names weights that are not safetensors ({', '.join(foreign)}); c2rag "
                "loads safetensors only because unpickling can run arbitrary code"
            )
            raise ModelLoadError(msg)
        files = [model_dir / name for name in names]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            msg = f"{index} lists shards that are missing: {', '.join(missing)}"
            raise ModelLoadError(msg)
        return files
    single = model_dir / "model.safetensors"
    if single.is_file():
        return [single]
    if any(model_dir.glob("*.bin")) or any(model_dir.glob("*.pt")):
        msg = (
            f"{model_dir} has only pickled weights (*.bin/*.pt); c2rag loads safetensors only "
            "because unpickling can run arbitrary code. Convert them once with "
            "`model.save_pretrained(dir, safe_serialization=True)` in a trusted environment."
        )
        raise ModelLoadError(msg)
    msg = (
        f"no weights in {model_dir}: looked for model.safetensors.index.json and model.safetensors"
    )
    raise ModelLoadError(msg)


def _local_digest(model_dir: Path) -> str:
    """Digest of a local directory: config, safetensors headers and bytes sampled across each
    file.

    Reading ~1 MiB per file instead of hashing gigabytes keeps startup fast, while a retrained,
    fine-tuned or converted checkpoint still gets a new identity.
    """
    digest = hashlib.sha256((model_dir / "config.json").read_bytes())
    try:
        files = weight_files(model_dir)
    except ModelLoadError:
        files = []
    for path in files:
        size = path.stat().st_size
        digest.update(f"{path.name}:{size}".encode())
        with path.open("rb") as handle:
            header_len = struct.unpack("<Q", handle.read(8))[0] if size >= 8 else 0
            digest.update(handle.read(min(header_len, size)))
            start = min(8 + header_len, size)
            step = max((size - start) // _SAMPLES, 1)
            for offset in range(start, size, step):
                handle.seek(offset)
                digest.update(handle.read(_SAMPLE_BYTES))
    return digest.hexdigest()


def _sentence_transformers_info(root: Path) -> tuple[Path, str | None, int | None]:
    """Transformer sub-directory, pooling mode and max length of a sentence-transformers dir."""
    modules_file = root / "modules.json"
    model_dir, pooling, max_len = root, None, None
    if not modules_file.is_file():
        return model_dir, pooling, max_len
    try:
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"cannot read {modules_file}: {exc}"
        raise ModelLoadError(msg) from exc
    for module in modules if isinstance(modules, list) else []:
        kind = str(module.get("type", ""))
        path = root / str(module.get("path", ""))
        if kind.endswith("models.Transformer"):
            model_dir = path
        elif kind.endswith("models.Pooling") and (path / "config.json").is_file():
            pooling = _pooling_from_config(read_json(path / "config.json"), path / "config.json")
    for candidate in (model_dir, root):
        bert_config = candidate / "sentence_bert_config.json"
        if bert_config.is_file():
            value = read_json(bert_config).get("max_seq_length")
            max_len = int(value) if value else None
            break
    return model_dir, pooling, max_len


_ST_POOLING = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_lasttoken": "last",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len",
    "pooling_mode_weightedmean_tokens": "weightedmean",
}
_ST_NAMES = {"cls": "cls", "mean": "mean", "lasttoken": "last", "last": "last"}


def _pooling_from_config(config: dict[str, Any], path: Path) -> str:
    """Map a sentence-transformers Pooling config to ``cls``/``mean``/``last``."""
    named = config.get("pooling_mode")
    modes = (
        [_ST_NAMES.get(str(named), str(named))]
        if named
        else [mode for key, mode in _ST_POOLING.items() if config.get(key)]
    )
    if len(modes) != 1 or modes[0] not in {"cls", "mean", "last"}:
        msg = (
            f"{path} asks for pooling {modes or 'none'}; c2rag supports exactly one of "
            "cls, mean, last (lasttoken) there. Pass pooling= to choose one."
        )
        raise ModelLoadError(msg)
    return modes[0]


def _is_hub_id(text: str) -> bool:
    """Whether a model name that is no local path can be a hub id (``org/name``)."""
    return bool(_HUB_ID.match(text)) and not text.startswith((".", "~"))


def local_config(
    name_or_path: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None
) -> dict[str, Any] | None:
    """A model's ``config.json`` from its directory or the local hub cache, without
    downloading anything or reading weights (for reports such as ``c2rag status``); ``None``
    when it is not on this machine or cannot be read."""
    text = os.fspath(name_or_path)
    root = Path(text).expanduser()
    if not root.is_dir():
        if not _is_hub_id(text):
            return None
        from huggingface_hub import snapshot_download

        try:
            root = Path(
                snapshot_download(
                    text, cache_dir=cache_dir, allow_patterns=["*.json"], local_files_only=True
                )
            )
        except Exception:  # not cached here (the hub client raises many types)
            return None
    try:
        model_dir = _sentence_transformers_info(root)[0]
        return read_json(model_dir / "config.json")
    except ModelLoadError:
        return None


def locate(
    name_or_path: str | os.PathLike[str],
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Checkpoint:
    """Find a checkpoint: an existing directory, else a hub id (cache first when offline).

    Raises:
        ModelLoadError: A path that does not exist, a directory without ``config.json`` (the
            message names the file), or a hub id that cannot be fetched.
    """
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        root, from_hub = path, False
    elif path.exists():
        msg = f"model path {path} is a file; pass the checkpoint directory that holds config.json"
        raise ModelLoadError(msg)
    elif _is_hub_id(text):
        try:
            root, from_hub = snapshot(text, revision=revision, cache_dir=cache_dir), True
        except ModelLoadError as exc:
            msg = f"no directory {path} here, so {text!r} was taken as a hub id; {exc}"
            raise ModelLoadError(msg) from exc.__cause__
    else:
        msg = f"model directory {path} does not exist (and {text!r} is not a hub id)"
        raise ModelLoadError(msg)

    model_dir, pooling, max_len = _sentence_transformers_info(root)
    config_file = model_dir / "config.json"
    if not config_file.is_file():
        msg = (
            f"{model_dir} is not a model checkpoint: {config_file} not found. Pass a directory "
            "with config.json and safetensors weights (a transformers, C2LLM or "
            "sentence-transformers checkpoint)."
        )
        raise ModelLoadError(msg)
    config = read_json(config_file)
    legacy: str | None = None
    if from_hub:
        name = text
        commit = root.name if _SNAPSHOT_HASH.match(root.name) else (revision or "main")
        identity = f"{text}@{commit}"
    else:
        resolved = path.resolve()
        # Wheels and exports often call the folder just "model": keep its parent for context.
        generic = resolved.name in {"model", "models", "checkpoint", "weights"}
        name = f"{resolved.parent.name}/{resolved.name}" if generic else resolved.name
        hub = _hub_identity(root)
        digest = None if hub else _local_digest(model_dir)
        identity = hub or f"local@{digest[:16]}"
        # c2rag 0.1 named a local model by its folder: dirname@digest
        legacy = f"{model_dir.name}@{digest[:12]}" if digest else None
    logger.debug("located %s at %s (identity %s)", name, model_dir, identity)
    return Checkpoint(
        model_dir=model_dir,
        name=name,
        identity=identity,
        config=config,
        root=root,
        pooling=pooling,
        max_seq_length=max_len,
        legacy_identity=legacy,
    )
