"""The five built-in networks of the paper and how to load a network by name.

All networks have batch 1. Conventions (they fix the weight-only counts):

- CNNs take ``"image": (3, 224, 224)``. BatchNorm and ReLU are not separate ops:
  they are folded into the neighbouring conv (``act="relu"`` records a ReLU that
  follows an op). Biases are not weights.
- DenseNet-161 uses pre-activation BN-ReLU; it is applied by the SFU on the
  consumer conv's input path, so it appears neither as an op nor as an ``act``.
- BERT takes ``"embeddings": (seq_len, hidden)``; embeddings, biases and
  LayerNorm parameters are not weights. LayerNorm is kept as a weightless
  ``norm`` op because its tensor occupies the Gbuffer.

Op names follow torchvision / HuggingFace where practical (``features.0``,
``layer1.0.conv1``, ``encoder.3.attn.q``, ``qa_outputs``).

Run ``python -m aras.zoo`` to regenerate ``instances/networks/*.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aras.errors import InputError
from aras.network import Network, NetworkBuilder

__all__ = ["BUILTIN", "bert_base", "bert_large", "densenet161", "load_network", "resnet50",
           "vgg16", "write_instances"]

_IMAGE = {"image": (3, 224, 224)}


def _conv(b: NetworkBuilder, name: str, x: str, c_in: int, c_out: int, k: int, stride: int = 1,
          padding: int = 0, act: str | None = None) -> str:
    """Append a square conv2d, optionally tagged with its folded activation."""
    extra = {"act": act} if act is not None else {}
    return b.add(name, "conv2d", [x], c_in=c_in, c_out=c_out, kernel=[k, k],
                 stride=[stride, stride], padding=[padding, padding], **extra)


def _linear(b: NetworkBuilder, name: str, x: str, i: int, o: int, act: str | None = None) -> str:
    """Append a linear layer, optionally tagged with its folded activation."""
    extra = {"act": act} if act is not None else {}
    return b.add(name, "linear", [x], in_features=i, out_features=o, **extra)


# ----------------------------------------------------------------------------- VGG-16
_VGG16_CFG: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
                               512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16() -> Network:
    """VGG-16, torchvision configuration D at 224x224.

    Returns
    -------
    Network
        13 conv2d (3x3, padding 1, ReLU folded) with 5 max pools, then three
        linears 25088->4096->4096->1000. The adaptive average pool is the
        identity at 224x224 and is omitted; ``classifier.0`` reads the
        ``(512, 7, 7)`` pool output directly. Op names use torchvision's module
        indices (``features.0`` ... ``features.30``, ``classifier.0/3/6``).
    """
    b = NetworkBuilder("vgg16", _IMAGE)
    x, c, idx = "image", 3, 0
    for v in _VGG16_CFG:
        if v == "M":
            x = b.pool(f"features.{idx}", x, k=2, stride=2, mode="max")
            idx += 1
        else:
            assert isinstance(v, int)
            x = _conv(b, f"features.{idx}", x, c, v, 3, padding=1, act="relu")
            c = v
            idx += 2  # torchvision: conv at idx, ReLU at idx + 1
    x = _linear(b, "classifier.0", x, 512 * 7 * 7, 4096, act="relu")
    x = _linear(b, "classifier.3", x, 4096, 4096, act="relu")
    _linear(b, "classifier.6", x, 4096, 1000)
    return b.build()


# ----------------------------------------------------------------------------- ResNet-50
def resnet50() -> Network:
    """ResNet-50, torchvision v1.5 (stride in the 3x3 conv of the bottleneck).

    Returns
    -------
    Network
        ``conv1`` 7x7/2, 3x3/2 max pool, bottleneck stages of 3, 4, 6, 3 blocks
        (widths 64, 128, 256, 512, expansion 4) with a 1x1 ``downsample.0`` conv
        on the first block of each stage and an ``add`` (ReLU folded) per block,
        global average pool and ``fc`` 2048->1000: 53 conv2d + 1 linear.
    """
    b = NetworkBuilder("resnet50", _IMAGE)
    x = _conv(b, "conv1", "image", 3, 64, 7, stride=2, padding=3, act="relu")
    x = b.pool("maxpool", x, k=3, stride=2, padding=1, mode="max")
    c_in = 64
    for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512), strict=True),
                                            start=1):
        for i in range(blocks):
            p = f"layer{stage}.{i}"
            stride = 2 if (i == 0 and stage > 1) else 1
            c_out = width * 4
            y = _conv(b, f"{p}.conv1", x, c_in, width, 1, act="relu")
            y = _conv(b, f"{p}.conv2", y, width, width, 3, stride=stride, padding=1, act="relu")
            y = _conv(b, f"{p}.conv3", y, width, c_out, 1)
            shortcut = x
            if i == 0:
                shortcut = _conv(b, f"{p}.downsample.0", x, c_in, c_out, 1, stride=stride)
            x = b.add(f"{p}.add", "add", [y, shortcut], act="relu")
            c_in = c_out
    x = b.pool("avgpool", x, mode="avg", global_=True)
    _linear(b, "fc", x, 2048, 1000)
    return b.build()


# ----------------------------------------------------------------------------- DenseNet-161
def densenet161() -> Network:
    """DenseNet-161 (growth 48, blocks 6-12-36-24, 96 initial features, bn_size 4).

    The concatenated feature map of a dense block is a chain of ``concat`` ops
    (axis 0): the block input is ``cat_0``; layer ``i`` reads ``cat_{i-1}`` and
    ``cat_i = concat(cat_{i-1}, new_i)``. Pre-activation BN-ReLU is applied by
    the SFU on the consumer conv's input path.

    Returns
    -------
    Network
        ``features.conv0`` 7x7/2 3->96 and a 3x3/2 max pool; per dense layer a
        1x1 conv c->192 and a 3x3 conv 192->48; per transition a 1x1 conv
        c->c//2 and a 2x2/2 average pool; a global average pool and the
        ``classifier`` 2208->1000: 160 conv2d + 1 linear.
    """
    growth, bn_size, blocks = 48, 4, (6, 12, 36, 24)
    b = NetworkBuilder("densenet161", _IMAGE)
    x = _conv(b, "features.conv0", "image", 3, 96, 7, stride=2, padding=3)
    x = b.pool("features.pool0", x, k=3, stride=2, padding=1, mode="max")
    c = 96
    for bi, n_layers in enumerate(blocks, start=1):
        blk = f"features.denseblock{bi}"
        for li in range(1, n_layers + 1):
            p = f"{blk}.denselayer{li}"
            y = _conv(b, f"{p}.conv1", x, c, bn_size * growth, 1)
            y = _conv(b, f"{p}.conv2", y, bn_size * growth, growth, 3, padding=1)
            x = b.add(f"{blk}.cat{li}", "concat", [x, y], axis=0)
            c += growth
        if bi < len(blocks):
            t = f"features.transition{bi}"
            x = _conv(b, f"{t}.conv", x, c, c // 2, 1)
            c //= 2
            x = b.pool(f"{t}.pool", x, k=2, stride=2, mode="avg")
    x = b.pool("avgpool", x, mode="avg", global_=True)
    _linear(b, "classifier", x, c, 1000)
    return b.build()


# ----------------------------------------------------------------------------- BERT
def _bert(name: str, hidden: int, heads: int, ffn: int, layers: int, seq_len: int) -> Network:
    """A BERT encoder stack with the SQuAD span head.

    Parameters
    ----------
    name
        Network name.
    hidden, heads, ffn, layers
        Hidden size, attention heads, FFN inner size and encoder blocks.
    seq_len
        Sequence length (tokens).

    Returns
    -------
    Network
        Per block: linears q, k, v, attention scores/context matmuls, softmax,
        ``attn.out``, residual add, norm, ``ffn.in`` (GELU), ``ffn.out``,
        residual add, norm; then ``qa_outputs`` hidden->2.
    """
    if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len <= 0:
        raise InputError(f"seq_len must be a positive integer, got {seq_len!r}")
    b = NetworkBuilder(name, {"embeddings": (seq_len, hidden)})
    x = "embeddings"
    for i in range(layers):
        p = f"encoder.{i}"
        q = _linear(b, f"{p}.attn.q", x, hidden, hidden)
        k = _linear(b, f"{p}.attn.k", x, hidden, hidden)
        v = _linear(b, f"{p}.attn.v", x, hidden, hidden)
        s = b.add(f"{p}.attn.scores", "matmul", [q, k], heads=heads, transpose_b=True)
        s = b.add(f"{p}.attn.softmax", "softmax", [s])
        ctx = b.add(f"{p}.attn.context", "matmul", [s, v], heads=heads)
        o = _linear(b, f"{p}.attn.out", ctx, hidden, hidden)
        y = b.add(f"{p}.attn.add", "add", [x, o])
        y = b.add(f"{p}.attn.norm", "norm", [y])
        h = _linear(b, f"{p}.ffn.in", y, hidden, ffn, act="gelu")
        h = _linear(b, f"{p}.ffn.out", h, ffn, hidden)
        z = b.add(f"{p}.ffn.add", "add", [y, h])
        x = b.add(f"{p}.ffn.norm", "norm", [z])
    _linear(b, "qa_outputs", x, hidden, 2)
    return b.build()


def bert_base(seq_len: int = 128) -> Network:
    """BERT-Base (hidden 768, 12 heads, FFN 3072, 12 blocks) with the SQuAD head.

    Parameters
    ----------
    seq_len
        Sequence length; 128 by default.

    Returns
    -------
    Network
        72 encoder linears + ``qa_outputs``; 84,936,192 weights at any ``seq_len``.
    """
    return _bert("bert-base", 768, 12, 3072, 12, seq_len)


def bert_large(seq_len: int = 128) -> Network:
    """BERT-Large (hidden 1024, 16 heads, FFN 4096, 24 blocks) with the SQuAD head.

    Parameters
    ----------
    seq_len
        Sequence length; 128 by default.

    Returns
    -------
    Network
        144 encoder linears + ``qa_outputs``; 301,991,936 weights at any ``seq_len``.
    """
    return _bert("bert-large", 1024, 16, 4096, 24, seq_len)


# ----------------------------------------------------------------------------- registry
#: Built-in networks by name.
BUILTIN: dict[str, Callable[[], Network]] = {
    "vgg16": vgg16,
    "resnet50": resnet50,
    "densenet161": densenet161,
    "bert-base": bert_base,
    "bert-large": bert_large,
}


def load_network(spec: str) -> Network:
    """A built-in network by name, else a network JSON file.

    Parameters
    ----------
    spec
        One of :data:`BUILTIN` or a path to an ``aras-network/1`` JSON file.

    Returns
    -------
    Network
        The network.

    Raises
    ------
    InputError
        When ``spec`` is neither a built-in name nor an existing file, or the
        file is not a valid network.
    """
    if spec in BUILTIN:
        return BUILTIN[spec]()
    if spec == "minilm-l6":
        from aras.pretrained import minilm_l6  # lazy: pretrained imports this module

        return minilm_l6()
    if Path(spec).is_file():
        return Network.load(spec)
    raise InputError(f"unknown network '{spec}': not a file and not a built-in "
                     f"(built-ins: {', '.join(BUILTIN)})")


def write_instances(directory: str | Path) -> list[Path]:
    """Write every built-in network as ``NAME.json`` in ``directory``.

    Parameters
    ----------
    directory
        Target directory, created if missing.

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in BUILTIN.items():
        path = out / f"{name}.json"
        build().save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    for _p in write_instances(Path("instances") / "networks"):
        print(_p)
