"""HuggingFace transformer configs (``config.json``) as networks.

A config names the architecture (``model_type``, ``architectures``) and its sizes; the
network is built with :mod:`aras.frontends.builders`, so no weights and no network access
are needed. Supported:

- encoders ``bert``, ``roberta`` (post-norm BERT blocks; ``hidden_size``,
  ``num_hidden_layers``, ``num_attention_heads``, ``intermediate_size``) with the head that
  ``architectures`` names: ``...ForQuestionAnswering`` -> ``qa_outputs`` (hidden x 2),
  ``...ForMaskedLM`` -> ``lm_head.dense`` (hidden x hidden) and ``lm_head.decoder``
  (hidden x vocab), ``...ForSequenceClassification`` -> ``pooler`` and ``classifier``
  (hidden x num_labels), anything else -> ``pooler`` (the bare model's dense pooler);
- ``gpt2`` (``n_embd``, ``n_layer``, ``n_head``, ``n_inner`` = 4 x n_embd when null,
  ``vocab_size``): the fused ``c_attn`` is written as three linears q, k, v of n_embd
  outputs each (same weights; APU rows equal whenever n_embd is a multiple of 128);
- Llama-style decoders ``llama``, ``mistral``, ``qwen2`` (``num_key_value_heads`` for
  grouped-query attention, ``head_dim`` when given, gated MLP gate/up/down).

Every linear is weight-bearing, the LM head included (tied or not); embeddings, norms and
biases are not. ``phase="prefill"`` runs ``tokens`` tokens; ``phase="decode"`` one new token
over ``context`` cached ones (decoders only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aras.frontends.builders import DecoderShape, bert_encoder, decoder, linear
from aras.model.errors import InputError, arg_name
from aras.model.files import read_json
from aras.model.network import Network, NetworkBuilder

__all__ = ["DECODERS", "ENCODERS", "from_config", "hf_name", "is_hf_config", "load_config"]

ENCODERS = ("bert", "roberta")
DECODERS = ("gpt2", "llama", "mistral", "qwen2")
DEFAULT_TOKENS = 128
#: Largest size a config may give (hidden, heads, FFN, vocabulary, labels): 2^24 = 16.8M,
#: 64 times the largest vocabulary in use; the network's own limits (docs/model.md) follow.
MAX_CONFIG_SIZE = 1 << 24
#: Largest number of layers (blocks of some 15 ops: the network's 131,072 ops at most).
MAX_CONFIG_LAYERS = 4096
_LAYER_KEYS = ("num_hidden_layers", "n_layer")


def is_hf_config(data: Any) -> bool:
    """True for a JSON object that looks like a HuggingFace model config."""
    return isinstance(data, dict) and ("model_type" in data or "architectures" in data)


def _int(cfg: dict[str, Any], key: str, where: str, default: Any = ...) -> int:
    if key not in cfg or (cfg[key] is None and default is not ...):
        if default is ...:
            raise InputError(f"{where}: missing key '{key}'")
        return int(default)
    v = cfg[key]
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise InputError(f"{where}: '{key}' must be a positive integer, got {v!r}")
    limit = MAX_CONFIG_LAYERS if key in _LAYER_KEYS else MAX_CONFIG_SIZE
    if v > limit:
        raise InputError(f"{where}: '{key}' at most {limit:,} is supported, got {v:,}")
    return v


def _positions(cfg: dict[str, Any], key: str, where: str) -> int | None:
    """The config's position limit: None when absent or not an integer (informational only),
    a one-line error when it is an integer < 1."""
    v = cfg.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        return None
    if v < 1:
        raise InputError(f"{where}: '{key}' must be a positive integer, got {v}")
    return v


def _arch(cfg: dict[str, Any]) -> str:
    a = cfg.get("architectures") or []
    return a[0] if isinstance(a, list) and a and isinstance(a[0], str) else ""


def _length(value: int | None, key: str, default: int, limit: int | None, where: str) -> int:
    n = default if value is None else value
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise InputError(f"{arg_name(key)}: must be a positive integer, got {n!r}")
    if limit is not None and n > limit:
        raise InputError(f"{arg_name(key)}: {where} allows at most {limit} positions, got {n}")
    return n


def from_config(cfg: Any, *, name: str, phase: str | None = None, tokens: int | None = None,
                context: int | None = None, where: str | None = None) -> Network:
    """Build the network a HuggingFace config describes.

    Parameters
    ----------
    cfg
        The parsed ``config.json``.
    name
        Network name.
    phase
        ``prefill`` (default) or ``decode`` (decoders only).
    tokens
        Prefill length (default 128).
    context
        Decode: cached tokens the new one attends over (default 128).
    where
        How to name the config in errors (its file).

    Raises
    ------
    InputError
        Unknown ``model_type``, a missing or non-positive size, a length beyond the model's
        positions, or decode on an encoder.
    """
    w = where or name
    if not isinstance(cfg, dict):
        raise InputError(f"{w}: a HuggingFace config must be a JSON object")
    mt = cfg.get("model_type")
    if mt is None:
        raise InputError(f"{w}: missing key 'model_type'")
    if not isinstance(mt, str):
        raise InputError(f"{w}: model_type must be a string, got {mt!r}")
    if phase not in (None, "prefill", "decode"):
        raise InputError(f"{arg_name('phase')}: must be 'prefill' or 'decode', got {phase!r}")
    arch = _arch(cfg)
    if mt in ENCODERS:
        if phase == "decode" or context is not None:
            raise InputError(f"{w}: '{mt}' is an encoder: it has no decode phase "
                             f"({arg_name('phase')}, {arg_name('context')} are for decoders)")
        hidden = _int(cfg, "hidden_size", w)
        heads = _int(cfg, "num_attention_heads", w)
        layers = _int(cfg, "num_hidden_layers", w)
        ffn = _int(cfg, "intermediate_size", w)
        limit = _positions(cfg, "max_position_embeddings", w)
        if mt == "roberta" and limit is not None:
            limit -= 2  # RoBERTa's positions start after the padding index
        n = _length(tokens, "tokens", DEFAULT_TOKENS, limit, w)
        if hidden % heads:
            raise InputError(f"{w}: hidden_size {hidden} is not a multiple of "
                             f"num_attention_heads {heads}")
        if arch.endswith("ForQuestionAnswering"):
            return bert_encoder(name, hidden, heads, ffn, layers, n, head=2)
        enc = bert_encoder(name, hidden, heads, ffn, layers, n, head=None)
        b = NetworkBuilder(name, enc.inputs)
        b.ops = list(enc.ops)
        x = enc.ops[-1].name
        if arch.endswith("ForMaskedLM"):
            vocab = _int(cfg, "vocab_size", w)
            y = linear(b, "lm_head.dense", x, hidden, hidden, act="gelu")
            y = b.add("lm_head.norm", "norm", [y])
            linear(b, "lm_head.decoder", y, hidden, vocab)
        else:
            cls = b.add("pooler.cls", "gather", [x], shape=[1, hidden])
            y = linear(b, "pooler", cls, hidden, hidden, act="tanh")
            if arch.endswith("ForSequenceClassification"):
                labels = cfg.get("id2label")
                n_labels = len(labels) if isinstance(labels, dict) and labels else _int(
                    cfg, "num_labels", w, default=2)
                linear(b, "classifier", y, hidden, n_labels)
        return b.build()
    if mt not in DECODERS:
        raise InputError(f"{w}: model_type '{mt}' is not supported (encoders: "
                         f"{', '.join(ENCODERS)}; decoders: {', '.join(DECODERS)})")
    if mt == "gpt2":
        hidden = _int(cfg, "n_embd", w)
        shape = DecoderShape(hidden=hidden, layers=_int(cfg, "n_layer", w),
                             heads=_int(cfg, "n_head", w),
                             ffn=_int(cfg, "n_inner", w, default=4 * hidden),
                             vocab=_int(cfg, "vocab_size", w))
        prefix = "h"
    else:
        heads = _int(cfg, "num_attention_heads", w)
        shape = DecoderShape(hidden=_int(cfg, "hidden_size", w),
                             layers=_int(cfg, "num_hidden_layers", w), heads=heads,
                             ffn=_int(cfg, "intermediate_size", w),
                             kv_heads=_int(cfg, "num_key_value_heads", w, default=heads),
                             head_dim=_int(cfg, "head_dim", w, default=0),
                             vocab=_int(cfg, "vocab_size", w), gated=True)
        prefix = "layers"
    lim = _positions(cfg, "n_positions" if mt == "gpt2" else "max_position_embeddings", w)
    ph = phase or "prefill"
    if ph == "prefill":
        if context is not None:
            raise InputError(f"{arg_name('context')}: only for the decode phase")
        n = _length(tokens, "tokens", DEFAULT_TOKENS, lim, w)
        return decoder(name, shape, phase="prefill", tokens=n, prefix=prefix)
    if tokens is not None:
        raise InputError(f"{arg_name('tokens')}: the prefill length; decode takes "
                         f"{arg_name('context')}")
    ctx = _length(context, "context", DEFAULT_TOKENS, None if lim is None else lim - 1, w)
    return decoder(name, shape, phase="decode", context=ctx, prefix=prefix)


def load_config(path: str | Path, **options: Any) -> Network:
    """Read a HuggingFace ``config.json`` and build its network (see :func:`from_config`).

    The network is named after the file (``llama-2-7b.config.json`` -> ``llama-2-7b``; a
    plain ``config.json`` takes its folder's name).
    """
    p = Path(path)
    data = read_json(p, "config")
    return from_config(data, name=hf_name(p), where=str(p), **options)


def hf_name(path: str | Path) -> str:
    """A config's network name: ``llama-2-7b.config.json`` -> ``llama-2-7b``; a plain
    ``config.json`` takes its folder's name."""
    p = Path(path)
    stem = p.name.removesuffix(".json").removesuffix(".config")
    name = p.resolve().parent.name if stem == "config" else stem
    return name or stem
