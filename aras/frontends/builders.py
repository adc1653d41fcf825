"""Builders shared by the zoo, the pretrained networks and the HuggingFace front-end.

Every network built in code is assembled here: square convolutions and linears
with their folded activation, the BERT encoder (post-norm), and the pre-norm
transformer stack of GPT-2, Llama-style decoders and ViT, with grouped-query
attention and the prefill / decode phases. Conventions (MODEL.md section 3):
biases, norms and embeddings are not crossbar weights; attention score and
context products are weightless ``matmul`` ops; every linear is weight-bearing.
"""

from __future__ import annotations

from dataclasses import dataclass

from aras.model.errors import InputError
from aras.model.network import Network, NetworkBuilder

__all__ = ["DecoderShape", "bert_encoder", "conv", "decoder", "linear"]


def conv(b: NetworkBuilder, name: str, x: str, c_in: int, c_out: int, k: int, stride: int = 1,
         padding: int = 0, act: str | None = None, groups: int = 1) -> str:
    """Append a square conv2d, optionally tagged with its folded activation."""
    extra = {"act": act} if act is not None else {}
    return b.add(name, "conv2d", [x], c_in=c_in, c_out=c_out, kernel=[k, k],
                 stride=[stride, stride], padding=[padding, padding], groups=groups, **extra)


def linear(b: NetworkBuilder, name: str, x: str, i: int, o: int, act: str | None = None) -> str:
    """Append a linear layer, optionally tagged with its folded activation."""
    extra = {"act": act} if act is not None else {}
    return b.add(name, "linear", [x], in_features=i, out_features=o, **extra)


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    return value


def bert_encoder(name: str, hidden: int, heads: int, ffn: int, layers: int, seq_len: int,
                 head: int | None = 2) -> Network:
    """A BERT encoder stack (post-norm), with an optional span head.

    Parameters
    ----------
    name
        Network name.
    hidden, heads, ffn, layers
        Hidden size, attention heads, FFN inner size and encoder blocks.
    seq_len
        Sequence length (tokens).
    head
        Output features of the final ``qa_outputs`` linear (2: the SQuAD span head), or None
        for the bare encoder.

    Returns
    -------
    Network
        Per block: linears q, k, v, attention scores/context matmuls, softmax,
        ``attn.out``, residual add, norm, ``ffn.in`` (GELU), ``ffn.out``,
        residual add, norm; then ``qa_outputs`` hidden->head.
    """
    _positive("seq_len", seq_len)
    b = NetworkBuilder(name, {"embeddings": (seq_len, hidden)})
    x = "embeddings"
    for i in range(layers):
        p = f"encoder.{i}"
        q = linear(b, f"{p}.attn.q", x, hidden, hidden)
        k = linear(b, f"{p}.attn.k", x, hidden, hidden)
        v = linear(b, f"{p}.attn.v", x, hidden, hidden)
        s = b.add(f"{p}.attn.scores", "matmul", [q, k], heads=heads, transpose_b=True)
        s = b.add(f"{p}.attn.softmax", "softmax", [s])
        ctx = b.add(f"{p}.attn.context", "matmul", [s, v], heads=heads)
        o = linear(b, f"{p}.attn.out", ctx, hidden, hidden)
        y = b.add(f"{p}.attn.add", "add", [x, o])
        y = b.add(f"{p}.attn.norm", "norm", [y])
        h = linear(b, f"{p}.ffn.in", y, hidden, ffn, act="gelu")
        h = linear(b, f"{p}.ffn.out", h, ffn, hidden)
        z = b.add(f"{p}.ffn.add", "add", [y, h])
        x = b.add(f"{p}.ffn.norm", "norm", [z])
    if head is not None:
        linear(b, "qa_outputs", x, hidden, head)
    return b.build()


@dataclass(frozen=True)
class DecoderShape:
    """Dimensions of a pre-norm transformer stack.

    Attributes
    ----------
    hidden, layers, heads, ffn
        Model width, blocks, query heads and MLP inner size.
    kv_heads
        Key/value heads (grouped-query attention; equal to ``heads`` for multi-head).
    head_dim
        Per-head width (``hidden / heads`` in every model shipped here).
    vocab
        Output features of the final linear (the LM head or a classifier); 0 for none.
    gated
        Gated MLP (``gate``, ``up`` -> ``down``, SiLU; Llama) instead of ``fc`` -> ``proj`` (GELU).
    """

    hidden: int
    layers: int
    heads: int
    ffn: int
    kv_heads: int = 0
    head_dim: int = 0
    vocab: int = 0
    gated: bool = False

    def __post_init__(self) -> None:
        for f in ("hidden", "layers", "heads", "ffn"):
            _positive(f, getattr(self, f))
        kv = self.kv_heads or self.heads
        if self.heads % kv:
            raise InputError(f"num_key_value_heads {kv} must divide the attention heads "
                             f"{self.heads}")
        hd = self.head_dim or self.hidden // self.heads
        if not self.head_dim and self.hidden % self.heads:
            raise InputError(f"hidden size {self.hidden} is not a multiple of the heads "
                             f"{self.heads}")
        object.__setattr__(self, "kv_heads", kv)
        object.__setattr__(self, "head_dim", hd)


def decoder(name: str, shape: DecoderShape, *, phase: str = "prefill", tokens: int = 128,
            context: int = 0, prefix: str = "layers", embed_input: str = "embeddings",
            stem: NetworkBuilder | None = None, x: str | None = None) -> Network:
    """A pre-norm transformer stack: GPT-2, Llama-style decoders, ViT encoders.

    Per block ``{prefix}.N``: ``attn_norm``; linears ``attn.q``, ``attn.k``, ``attn.v``
    (``k``/``v`` of ``kv_heads * head_dim`` outputs); ``attn.scores`` and
    ``attn.context`` matmuls (weightless, grouped-query aware) around ``attn.softmax``;
    ``attn.o``; residual ``attn.add``; ``mlp_norm``; the MLP (gated: ``mlp.gate``,
    ``mlp.up`` (SiLU on the gate), ``mlp.mul``, ``mlp.down``; else ``mlp.fc`` (GELU),
    ``mlp.proj``); residual ``mlp.add``. Then ``norm`` and, with ``vocab``, ``lm_head``.

    Parameters
    ----------
    name
        Network name.
    shape
        The stack's dimensions.
    phase
        ``prefill``: ``tokens`` tokens attend over each other. ``decode``: one new token
        attends over ``context`` cached tokens and itself; the caches are graph inputs
        ``{prefix}.N.attn.k_cache`` / ``v_cache`` of ``(context, kv_heads * head_dim)``,
        concatenated with the new token's key and value.
    tokens
        Prefill length.
    context
        Cached tokens in decode.
    prefix
        Block name prefix (``layers``, ``h``, ``encoder.layers``...).
    embed_input
        Name of the graph input holding the token embeddings (``(tokens, hidden)``).
    stem, x
        A builder that already holds ops (ViT's patch embedding) and the tensor the stack
        reads; without them the stack starts from ``embed_input``.

    Returns
    -------
    Network
        The validated network.
    """
    if phase not in ("prefill", "decode"):
        raise InputError(f"phase must be 'prefill' or 'decode', got {phase!r}")
    s = shape
    if phase == "prefill":
        m = _positive("tokens", tokens)
    else:
        _positive("context", context)
        m = 1
    kv_dim = s.kv_heads * s.head_dim
    q_dim = s.heads * s.head_dim
    if stem is None:
        b = NetworkBuilder(name, {embed_input: (m, s.hidden)})
        x = embed_input
    else:
        b = stem
        assert x is not None
    for i in range(s.layers):
        p = f"{prefix}.{i}"
        y = b.add(f"{p}.attn_norm", "norm", [x])
        q = linear(b, f"{p}.attn.q", y, s.hidden, q_dim)
        k = linear(b, f"{p}.attn.k", y, s.hidden, kv_dim)
        v = linear(b, f"{p}.attn.v", y, s.hidden, kv_dim)
        if phase == "decode":
            b.inputs[f"{p}.attn.k_cache"] = (context, kv_dim)
            b.inputs[f"{p}.attn.v_cache"] = (context, kv_dim)
            k = b.add(f"{p}.attn.k_all", "concat", [f"{p}.attn.k_cache", k], axis=0)
            v = b.add(f"{p}.attn.v_all", "concat", [f"{p}.attn.v_cache", v], axis=0)
        sc = b.add(f"{p}.attn.scores", "matmul", [q, k], heads=s.heads, kv_heads=s.kv_heads,
                   transpose_b=True)
        sc = b.add(f"{p}.attn.softmax", "softmax", [sc])
        ctx = b.add(f"{p}.attn.context", "matmul", [sc, v], heads=s.heads, kv_heads=s.kv_heads)
        o = linear(b, f"{p}.attn.o", ctx, q_dim, s.hidden)
        x = b.add(f"{p}.attn.add", "add", [x, o])
        y = b.add(f"{p}.mlp_norm", "norm", [x])
        if s.gated:
            g = linear(b, f"{p}.mlp.gate", y, s.hidden, s.ffn, act="silu")
            u = linear(b, f"{p}.mlp.up", y, s.hidden, s.ffn)
            h = b.add(f"{p}.mlp.mul", "eltwise", [g, u], fn="mul")
            h = linear(b, f"{p}.mlp.down", h, s.ffn, s.hidden)
        else:
            h = linear(b, f"{p}.mlp.fc", y, s.hidden, s.ffn, act="gelu")
            h = linear(b, f"{p}.mlp.proj", h, s.ffn, s.hidden)
        x = b.add(f"{p}.mlp.add", "add", [x, h])
    x = b.add("norm", "norm", [x])
    if s.vocab:
        linear(b, "lm_head", x, s.hidden, s.vocab)
    return b.build()
