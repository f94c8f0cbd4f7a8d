"""The same code at two paths (a file duplicated for a second package) answers once, on a real
index with MiniLM. (``vendor/`` and the like are not indexed at all, see ``git.ignore``.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from llama_index.core.schema import MetadataMode
from llama_index.retrievers.c2rag import C2RAGRetriever

from c2rag.cli import cli
from c2rag.context import pack_context
from c2rag.git import GitRepo
from c2rag.index import CodeIndex
from c2rag.retrieve import CodeRetriever
from c2rag.retrieve.metadata import hit_metadata
from c2rag.store import IndexStore, StoreLocation
from tests.fixtures.repos import init_repo

CODEC = '''"""Decoding of framed messages."""


class FrameDecoder:
    def decode_frame(self, data: bytes) -> bytes:
        """Strip the length prefix of one frame and check its checksum."""
        length = int.from_bytes(data[:4], "big")
        payload, checksum = data[4 : 4 + length], data[4 + length :]
        if sum(payload) % 256 != checksum[0]:
            raise ValueError("bad frame checksum")
        return payload


def encode_frame(payload: bytes) -> bytes:
    """Prefix a payload with its length and append its checksum."""
    return len(payload).to_bytes(4, "big") + payload + bytes([sum(payload) % 256])
'''

ALIAS = """class Reader:
    def name(self):
        return self._name
"""


def _retriever(root: Path, store_dir: Path, encoder) -> CodeRetriever:
    store = IndexStore.open(StoreLocation.for_repo(root, store_dir=store_dir))
    return CodeRetriever(store, encoder, GitRepo(root))


def _repo(tmp_path: Path):
    return init_repo(
        tmp_path / "repo",
        files={
            "proto/codec.py": CODEC,
            "bindings/node/proto/codec.py": CODEC,
            "proto/reader.py": ALIAS,
            "proto/writer.py": ALIAS.replace("Reader", "Writer"),
            "proto/session.py": "def open_session(url):\n    return url.split('://')\n",
        },
    )


def test_a_copied_file_takes_no_second_slot(tmp_path: Path, minilm_encoder, minilm_dir) -> None:
    repo = _repo(tmp_path)
    store_dir = tmp_path / "store"
    CodeIndex(repo.root, encoder=minilm_encoder, store_dir=store_dir).update()
    with _retriever(Path(repo.root), store_dir, minilm_encoder) as r:
        hits = r.search("check the checksum of a length-prefixed frame", k=5)
        texts = [h.chunk.text for h in hits]
        assert len(texts) == len(set(texts)), [h.citation for h in hits]
        top = hits[0]
        assert top.chunk.name.endswith("FrameDecoder.decode_frame")
        (copy,) = top.members
        other = r.fetch([copy])[copy].chunk
        assert other.text == top.chunk.text and other.path != top.chunk.path
        # where the copy is, for an agent that must edit both
        (where,) = top.copies
        assert (where.path, where.start_line, where.commit) == (
            other.path,
            other.start_line,
            top.commit,
        )
        assert hit_metadata(top)["copies"] == str(where)
        packed = pack_context(hits[:1], budget_tokens=2000)
        assert packed.snippets[0].copies == (where,)
        assert f"same code also at {where}" in packed.render()
        # LlamaIndex shows the copy to the LLM (and no empty "copies" line elsewhere)
        (node, *_) = C2RAGRetriever(r, k=3).retrieve("check the checksum of a frame")
        assert f"copies: {where}" in node.node.get_content(metadata_mode=MetadataMode.LLM)
        # one idiom written in two classes is two places, not a copy
        names = [h.chunk.name for h in r.search("the name of the reader and the writer", k=6)]
        assert {"proto.reader.Reader.name", "proto.writer.Writer.name"} <= set(names)
    args = [str(repo.root), "--store", str(store_dir), "--model", str(minilm_dir), "-k", "3"]
    shown = CliRunner().invoke(cli, ["search", "check the checksum of a frame", *args])
    assert shown.exit_code == 0, shown.output
    assert f"    same code also at {where.path}:{where.start_line}-" in shown.stdout


def test_a_lexical_index_of_the_previous_format_is_rebuilt(tmp_path: Path, minilm_encoder) -> None:
    repo = _repo(tmp_path)
    store_dir = tmp_path / "store"
    CodeIndex(repo.root, encoder=minilm_encoder, store_dir=store_dir).update()
    (path,) = store_dir.rglob("lexical.npz")
    with np.load(path) as data:
        arrays = dict(data)
    meta = json.loads(arrays["meta"].tobytes())
    meta["format"] = 1
    del meta["symbols"]["text_id"]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    with _retriever(Path(repo.root), store_dir, minilm_encoder) as r:
        infos = [info for _, info in r.lexical.symbols]
        assert infos and all(info.text_id for info in infos)
        assert len(r.search("check the checksum of a length-prefixed frame", k=5)[0].members) == 1
    # the next update saves it in the current format
    CodeIndex(repo.root, encoder=minilm_encoder, store_dir=store_dir).update()
    with np.load(path) as data:
        assert json.loads(data["meta"].tobytes())["format"] == 2
