"""Tests of the built-in networks: exact weight counts, op counts, shapes, JSON files."""

from __future__ import annotations

from pathlib import Path

import pytest

from aras.frontends import load_network
from aras.frontends.zoo import BUILTIN, HF_CONFIGS, bert_base, write_instances
from aras.model.errors import InputError
from aras.model.network import Network

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances" / "networks"


# ---------------------------------------------------------------- independent expected counts
def _vgg16_weights() -> int:
    """Published total minus every conv and linear bias."""
    conv_out = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    fc_out = [4096, 4096, 1000]
    return 138_357_544 - sum(conv_out) - sum(fc_out)


def _resnet50_weights() -> int:
    """Published total minus BN (gamma, beta per channel) and the fc bias."""
    bn_channels = [64]  # bn1 after conv1
    for blocks, width in zip((3, 4, 6, 3), (64, 128, 256, 512), strict=True):
        for i in range(blocks):
            bn_channels += [width, width, 4 * width]
            if i == 0:
                bn_channels.append(4 * width)  # downsample BN
    return 25_557_032 - 2 * sum(bn_channels) - 1000


def _densenet161_weights() -> int:
    """Published total minus BN (gamma, beta per channel) and the classifier bias."""
    bn_channels = [96]  # norm0
    c = 96
    blocks = (6, 12, 36, 24)
    for bi, n in enumerate(blocks):
        for _ in range(n):
            bn_channels += [c, 4 * 48]  # norm1 on the layer input, norm2 on the bottleneck
            c += 48
        if bi < len(blocks) - 1:
            bn_channels.append(c)  # transition norm
            c //= 2
    assert c == 2208
    bn_channels.append(c)  # norm5
    return 28_681_000 - 2 * sum(bn_channels) - 1000


def _bert_weights(hidden: int, layers: int) -> int:
    """Q, K, V, attention-out (4 h^2) + FFN (2 * h * 4h) per block, plus the h x 2 head."""
    return layers * (4 * hidden * hidden + 2 * hidden * 4 * hidden) + hidden * 2


EXPECTED = {
    # name: (weights, conv2d, linear, final output shape)
    "vgg16": (_vgg16_weights(), 13, 3, (1, 1000)),
    "resnet50": (_resnet50_weights(), 53, 1, (1, 1000)),
    "densenet161": (_densenet161_weights(), 160, 1, (1, 1000)),
    "bert-base": (_bert_weights(768, 12), 0, 12 * 6 + 1, (128, 2)),
    "bert-large": (_bert_weights(1024, 24), 0, 24 * 6 + 1, (128, 2)),
}


@pytest.fixture(scope="module")
def nets() -> dict[str, Network]:
    return {name: build() for name, build in BUILTIN.items()}


def test_expected_table_sanity() -> None:
    assert set(EXPECTED) == set(BUILTIN) == {"vgg16", "resnet50", "densenet161", "bert-base",
                                             "bert-large"}
    assert EXPECTED["bert-base"][0] == 84_936_192
    assert EXPECTED["bert-large"][0] == 301_991_936
    assert EXPECTED["vgg16"][0] == 138_344_128


@pytest.mark.parametrize("name", list(EXPECTED))
def test_weight_count(nets: dict[str, Network], name: str) -> None:
    net = nets[name]
    assert net.weight_count == EXPECTED[name][0]
    assert sum(o.weights for o in net.weighted_ops) == net.weight_count


@pytest.mark.parametrize("name", list(EXPECTED))
def test_op_counts(nets: dict[str, Network], name: str) -> None:
    kinds = [o.kind for o in nets[name].ops]
    assert kinds.count("conv2d") == EXPECTED[name][1]
    assert kinds.count("linear") == EXPECTED[name][2]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_final_shape(nets: dict[str, Network], name: str) -> None:
    net = nets[name]
    last = net.ops[-1]
    assert net.consumers(last.name) == []
    assert net.shapes[last.name] == EXPECTED[name][3]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_instance_file_matches_builtin(nets: dict[str, Network], name: str) -> None:
    loaded = Network.load(INSTANCES / f"{name}.json")
    assert loaded.to_dict() == nets[name].to_dict()
    assert load_network(str(INSTANCES / f"{name}.json")).to_dict() == nets[name].to_dict()


def test_write_instances_roundtrip(tmp_path: Path, nets: dict[str, Network]) -> None:
    written = write_instances(tmp_path)
    assert sorted(p.name for p in written) == sorted(
        [f"{n}.json" for n in BUILTIN] + [f"{n}.config.json" for n in HF_CONFIGS])
    for p in written:
        assert p.read_text() == (INSTANCES / p.name).read_text()


def test_load_network_builtin_name(nets: dict[str, Network]) -> None:
    assert load_network("resnet50").to_dict() == nets["resnet50"].to_dict()


def test_load_network_unknown_name() -> None:
    with pytest.raises(InputError) as exc:
        load_network("no-such-net")
    msg = str(exc.value)
    assert "\n" not in msg
    for name in BUILTIN:
        assert name in msg


def test_spot_shapes(nets: dict[str, Network]) -> None:
    vgg = nets["vgg16"]
    assert vgg.shapes["features.0"] == (64, 224, 224)
    assert vgg.shapes["features.30"] == (512, 7, 7)
    assert vgg.op("classifier.0").attrs["in_features"] == 25088

    rn = nets["resnet50"]
    assert rn.shapes["conv1"] == (64, 112, 112)
    assert rn.shapes["maxpool"] == (64, 56, 56)
    assert rn.shapes["layer1.2.add"] == (256, 56, 56)
    assert rn.shapes["layer2.0.conv2"] == (128, 28, 28)
    assert rn.op("layer2.0.conv1").attrs["stride"] == (1, 1)  # v1.5: stride in the 3x3
    assert rn.shapes["layer4.2.add"] == (2048, 7, 7)
    assert sum(o.kind == "add" for o in rn.ops) == 16

    dn = nets["densenet161"]
    assert dn.shapes["features.pool0"] == (96, 56, 56)
    assert dn.shapes["features.denseblock1.cat6"] == (384, 56, 56)
    assert dn.shapes["features.transition3.pool"] == (1056, 7, 7)
    assert dn.shapes["features.denseblock4.cat24"] == (2208, 7, 7)
    assert dn.op("avgpool").inputs == ("features.denseblock4.cat24",)
    assert dn.op("features.denseblock2.denselayer1.conv1").inputs == ("features.transition1.pool",)
    assert dn.op("features.denseblock2.cat2").inputs == (
        "features.denseblock2.cat1", "features.denseblock2.denselayer2.conv2")

    bb = nets["bert-base"]
    assert bb.shapes["encoder.0.attn.scores"] == (12, 128, 128)
    assert bb.shapes["encoder.0.attn.context"] == (128, 768)
    assert bb.shapes["encoder.11.ffn.in"] == (128, 3072)
    assert bb.shapes["encoder.11.ffn.norm"] == (128, 768)
    bl = nets["bert-large"]
    assert bl.shapes["encoder.23.attn.scores"] == (16, 128, 128)


def test_bert_seq_len() -> None:
    net = bert_base(seq_len=64)
    assert net.inputs["embeddings"] == (64, 768)
    assert net.shapes["qa_outputs"] == (64, 2)
    assert net.weight_count == _bert_weights(768, 12)
