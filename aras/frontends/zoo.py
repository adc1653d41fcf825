"""The built-in networks: the paper's five and a wider zoo, all from :mod:`.builders`.

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

The wider zoo (``ZOO``) adds MobileNet-V2 (depthwise convolutions), ResNet-18/101,
ViT-B/16, and the HuggingFace configs of GPT-2 and Llama-2-7B (built by
:mod:`aras.frontends.hf`, prefill or decode). ``BUILTIN`` stays the paper's five, the
set the paper reproduction and the reference tables iterate over.

Run ``python -m aras.frontends.zoo`` to regenerate ``instances/networks/*.json`` (the
paper's five as ``aras-network/1``, the HuggingFace configs as ``*.config.json``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aras.frontends.builders import DecoderShape, bert_encoder, decoder
from aras.frontends.builders import conv as _conv
from aras.frontends.builders import linear as _linear
from aras.model.network import Network, NetworkBuilder

__all__ = ["BUILTIN", "HF_CONFIGS", "ZOO", "ZooEntry", "bert_base", "bert_large", "densenet161",
           "mobilenet_v2", "resnet18", "resnet50", "resnet101", "vgg16", "vit_b_16",
           "write_instances"]

_IMAGE = {"image": (3, 224, 224)}


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


# ----------------------------------------------------------------------------- ResNets
def _resnet(name: str, blocks: tuple[int, ...], bottleneck: bool) -> Network:
    """A torchvision ResNet (v1.5: the stride sits in the 3x3 conv of a bottleneck)."""
    b = NetworkBuilder(name, _IMAGE)
    x = _conv(b, "conv1", "image", 3, 64, 7, stride=2, padding=3, act="relu")
    x = b.pool("maxpool", x, k=3, stride=2, padding=1, mode="max")
    c_in = 64
    expansion = 4 if bottleneck else 1
    for stage, (n_blocks, width) in enumerate(zip(blocks, (64, 128, 256, 512), strict=True),
                                              start=1):
        for i in range(n_blocks):
            p = f"layer{stage}.{i}"
            stride = 2 if (i == 0 and stage > 1) else 1
            c_out = width * expansion
            if bottleneck:
                y = _conv(b, f"{p}.conv1", x, c_in, width, 1, act="relu")
                y = _conv(b, f"{p}.conv2", y, width, width, 3, stride=stride, padding=1,
                          act="relu")
                y = _conv(b, f"{p}.conv3", y, width, c_out, 1)
            else:
                y = _conv(b, f"{p}.conv1", x, c_in, width, 3, stride=stride, padding=1,
                          act="relu")
                y = _conv(b, f"{p}.conv2", y, width, width, 3, padding=1)
            shortcut = x
            if stride != 1 or c_in != c_out:
                shortcut = _conv(b, f"{p}.downsample.0", x, c_in, c_out, 1, stride=stride)
            x = b.add(f"{p}.add", "add", [y, shortcut], act="relu")
            c_in = c_out
    x = b.pool("avgpool", x, mode="avg", global_=True)
    _linear(b, "fc", x, 512 * expansion, 1000)
    return b.build()


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
    return _resnet("resnet50", (3, 4, 6, 3), bottleneck=True)


def resnet18() -> Network:
    """ResNet-18 (torchvision): basic blocks 2-2-2-2, 20 conv2d + 1 linear, 11,678,912 weights."""
    return _resnet("resnet-18", (2, 2, 2, 2), bottleneck=False)


def resnet101() -> Network:
    """ResNet-101 (torchvision v1.5): bottleneck blocks 3-4-23-3, 104 conv2d + 1 linear."""
    return _resnet("resnet-101", (3, 4, 23, 3), bottleneck=True)


# ----------------------------------------------------------------------------- MobileNet-V2
#: torchvision's inverted-residual settings: expansion t, channels c, repeats n, stride s.
_MOBILENET_V2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                 (6, 160, 3, 2), (6, 320, 1, 1))


def mobilenet_v2() -> Network:
    """MobileNet-V2 (torchvision, width 1.0, 224x224).

    Returns
    -------
    Network
        ``features.0`` 3x3/2 3->32, 17 inverted residual blocks (1x1 expansion with ReLU6
        unless t = 1, a 3x3 depthwise conv with ``groups`` = its channels, a linear 1x1
        projection, a residual ``add`` where stride is 1 and channels match), ``features.18``
        1x1 320->1280, global average pool and ``classifier.1`` 1280->1000: 52 conv2d (17 of
        them depthwise: block-diagonal packing) + 1 linear.
    """
    b = NetworkBuilder("mobilenet-v2", _IMAGE)
    x = _conv(b, "features.0", "image", 3, 32, 3, stride=2, padding=1, act="relu6")
    c, idx = 32, 1
    for t, c_out, n, s in _MOBILENET_V2:
        for i in range(n):
            p = f"features.{idx}"
            stride = s if i == 0 else 1
            hidden = c * t
            y = x
            if t != 1:
                y = _conv(b, f"{p}.expand", y, c, hidden, 1, act="relu6")
            y = _conv(b, f"{p}.dw", y, hidden, hidden, 3, stride=stride, padding=1, act="relu6",
                      groups=hidden)
            y = _conv(b, f"{p}.project", y, hidden, c_out, 1)
            if stride == 1 and c == c_out:
                y = b.add(f"{p}.add", "add", [x, y])
            x, c, idx = y, c_out, idx + 1
    x = _conv(b, f"features.{idx}", x, c, 1280, 1, act="relu6")
    x = b.pool("avgpool", x, mode="avg", global_=True)
    _linear(b, "classifier.1", x, 1280, 1000)
    return b.build()


# ----------------------------------------------------------------------------- ViT-B/16
def vit_b_16() -> Network:
    """ViT-B/16 (torchvision, 224x224): a 16x16/16 patch conv, 12 pre-norm encoder blocks.

    The 196 patch tokens and the class token are concatenated into ``(197, 768)`` (the
    class token and position embeddings are parameters, not crossbar weights: the class
    token is a graph input); the head reads the class token only (``cls``, a weightless
    gather of one token) and is ``heads.head`` 768->1000.

    Returns
    -------
    Network
        1 conv2d + 12 x 6 linears + the head: 86,292,480 weights.
    """
    b = NetworkBuilder("vit-b-16", {**_IMAGE, "class_token": (1, 768)})
    x = _conv(b, "conv_proj", "image", 3, 768, 16, stride=16)
    x = b.add("tokens", "concat", ["class_token", x], axis=0, shape=[197, 768])
    x = b.add("pos_embedding", "eltwise", [x], fn="add")
    shape = DecoderShape(hidden=768, layers=12, heads=12, ffn=3072)
    net = decoder("vit-b-16", shape, tokens=197, prefix="encoder.layers", stem=b, x=x)
    b2 = NetworkBuilder("vit-b-16", net.inputs)
    b2.ops = list(net.ops)
    cls = b2.add("cls", "gather", ["norm"], shape=[1, 768])
    _linear(b2, "heads.head", cls, 768, 1000)
    return b2.build()


# ----------------------------------------------------------------------------- DenseNet-161
def _densenet(name: str, blocks: tuple[int, ...], growth: int = 48, bn_size: int = 4,
              init: int = 96) -> Network:
    """A DenseNet with ``blocks[i]`` dense layers in dense block ``i + 1``, laid out as
    :func:`densenet161` describes; the defaults are DenseNet-161's growth rate, bottleneck
    width factor and initial features."""
    b = NetworkBuilder(name, _IMAGE)
    x = _conv(b, "features.conv0", "image", 3, init, 7, stride=2, padding=3)
    x = b.pool("features.pool0", x, k=3, stride=2, padding=1, mode="max")
    c = init
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
    return _densenet("densenet161", (6, 12, 36, 24))


# ----------------------------------------------------------------------------- BERT
def _bert(name: str, hidden: int, heads: int, ffn: int, layers: int, seq_len: int) -> Network:
    """A BERT encoder stack with the SQuAD span head (see :func:`.builders.bert_encoder`)."""
    return bert_encoder(name, hidden, heads, ffn, layers, seq_len, head=2)


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


# ----------------------------------------------------------------------------- HF configs
#: HuggingFace ``config.json`` contents of the decoders in the zoo (public facts of the
#: released checkpoints), also shipped as ``instances/networks/NAME.config.json``.
HF_CONFIGS: dict[str, dict[str, Any]] = {
    "gpt2": {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 768,
             "n_layer": 12, "n_head": 12, "n_inner": None, "n_positions": 1024,
             "vocab_size": 50257},
    "llama-2-7b": {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
                   "hidden_size": 4096, "intermediate_size": 11008,
                   "num_attention_heads": 32, "num_hidden_layers": 32,
                   "num_key_value_heads": 32, "max_position_embeddings": 4096,
                   "vocab_size": 32000},
    "llama-3-8b": {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
                   "hidden_size": 4096, "intermediate_size": 14336,
                   "num_attention_heads": 32, "num_hidden_layers": 32,
                   "num_key_value_heads": 8, "max_position_embeddings": 8192,
                   "vocab_size": 128256},
}


def _hf(name: str) -> Callable[..., Network]:
    def build(**options: Any) -> Network:
        from aras.frontends.hf import from_config

        return from_config(HF_CONFIGS[name], name=name, **options)

    return build


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class ZooEntry:
    """One built-in network: how to build it and what it is.

    ``options`` names the keyword options the builder takes (``tokens``, ``phase``,
    ``context`` for transformers).
    """

    build: Callable[..., Network]
    family: str
    description: str
    options: tuple[str, ...] = field(default=())


_SEQ = ("tokens",)
_LLM = ("tokens", "phase", "context")

#: Every built-in network by name.
ZOO: dict[str, ZooEntry] = {
    "vgg16": ZooEntry(vgg16, "CNN", "VGG-16 (paper)"),
    "resnet50": ZooEntry(resnet50, "CNN", "ResNet-50 v1.5 (paper)"),
    "densenet161": ZooEntry(densenet161, "CNN", "DenseNet-161 (paper)"),
    "bert-base": ZooEntry(lambda tokens=128: bert_base(tokens), "encoder",
                          "BERT-Base + SQuAD head, 128 tokens (paper)", _SEQ),
    "bert-large": ZooEntry(lambda tokens=128: bert_large(tokens), "encoder",
                           "BERT-Large + SQuAD head, 128 tokens (paper)", _SEQ),
    "resnet-18": ZooEntry(resnet18, "CNN", "ResNet-18"),
    "resnet-101": ZooEntry(resnet101, "CNN", "ResNet-101 v1.5"),
    "mobilenet-v2": ZooEntry(mobilenet_v2, "CNN", "MobileNet-V2 (depthwise)"),
    "vit-b-16": ZooEntry(vit_b_16, "ViT", "ViT-B/16, 197 tokens"),
    "gpt2": ZooEntry(_hf("gpt2"), "decoder", "GPT-2 124M with LM head", _LLM),
    "llama-2-7b": ZooEntry(_hf("llama-2-7b"), "decoder", "Llama-2-7B with LM head", _LLM),
    "llama-3-8b": ZooEntry(_hf("llama-3-8b"), "decoder", "Llama-3-8B (GQA) with LM head",
                           _LLM),
}

#: The paper's five networks (what the paper reproduction and reference tables use).
BUILTIN: dict[str, Callable[[], Network]] = {
    "vgg16": vgg16,
    "resnet50": resnet50,
    "densenet161": densenet161,
    "bert-base": bert_base,
    "bert-large": bert_large,
}


def write_instances(directory: str | Path) -> list[Path]:
    """Write the paper's networks as ``NAME.json`` and the HF configs as ``NAME.config.json``.

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
    for name, cfg in HF_CONFIGS.items():
        path = out / f"{name}.config.json"
        path.write_text(json.dumps(cfg, indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for _p in write_instances(Path("instances") / "networks"):
        print(_p)
