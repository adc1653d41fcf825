"""HuggingFace configs and the wider zoo: weight counts derived by hand, phases, bad configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aras.evaluation.evaluator import evaluate
from aras.frontends import load_network
from aras.frontends.hf import from_config
from aras.frontends.zoo import HF_CONFIGS, ZOO
from aras.methods.heuristics import aras, jit
from aras.model.errors import InputError
from aras.model.hardware import aras_hardware
from aras.model.mapping import map_network

ROOT = Path(__file__).resolve().parents[1]
NETS = ROOT / "instances" / "networks"


def llama_weights(hidden: int, layers: int, ffn: int, vocab: int, heads: int,
                  kv_heads: int) -> int:
    """q, o (h x h), k, v (h x kv*hd), gate, up, down (h x ffn) per layer, and the LM head."""
    hd = hidden // heads
    per = 2 * hidden * hidden + 2 * hidden * kv_heads * hd + 3 * hidden * ffn
    return layers * per + hidden * vocab


def test_llama_2_7b_weight_count_by_hand() -> None:
    # 32 x (4 x 4096^2 + 3 x 4096 x 11008) + 4096 x 32000
    expected = 32 * (4 * 4096 ** 2 + 3 * 4096 * 11008) + 4096 * 32000
    assert expected == 6_607_077_376
    net = load_network(str(NETS / "llama-2-7b.config.json"))
    assert net.weight_count == expected
    assert len(net.weighted_ops) == 32 * 7 + 1
    assert load_network("llama-2-7b").weight_count == expected


def test_llama_3_8b_gqa_weight_count_by_hand() -> None:
    # published 8,030,261,248 parameters = linears + embedding (128256 x 4096) + norms
    linears = llama_weights(4096, 32, 14336, 128256, 32, 8)
    assert linears + 128256 * 4096 + (2 * 32 + 1) * 4096 == 8_030_261_248
    assert load_network(str(NETS / "llama-3-8b.config.json")).weight_count == linears


def test_gpt2_weight_count_by_hand() -> None:
    # published 124,439,808 = linears without the tied head + wte + wpe + biases + norms
    h, L, V, P = 768, 12, 50257, 1024
    blocks = L * (h * 3 * h + h * h + 2 * h * 4 * h)
    biases_norms = L * (3 * h + h + 4 * h + h + 4 * h) + 2 * h
    assert blocks + V * h + P * h + biases_norms == 124_439_808
    net = load_network(str(NETS / "gpt2.config.json"))
    assert net.weight_count == blocks + h * V  # the LM head is a linear too


def test_shipped_configs_are_the_zoos() -> None:
    for name, cfg in HF_CONFIGS.items():
        assert json.loads((NETS / f"{name}.config.json").read_text()) == cfg


TINY_LLAMA = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 512,
              "num_attention_heads": 8, "num_key_value_heads": 2, "num_hidden_layers": 2,
              "vocab_size": 1000, "max_position_embeddings": 512}


def test_decode_and_prefill_shapes_and_gqa_macs() -> None:
    hd, kv = 32, 2
    pre = from_config(TINY_LLAMA, name="t", tokens=64)
    dec = from_config(TINY_LLAMA, name="t", phase="decode", context=100)
    hw = aras_hardware()
    sp = {s.layer: s for s in map_network(pre, hw).steps}
    sd = {s.layer: s for s in map_network(dec, hw).steps}
    assert sp["layers.0.attn.q"].windows == 64 and sd["layers.0.attn.q"].windows == 1
    assert pre.op("layers.0.attn.k").attrs["out_features"] == kv * hd
    # prefill: 8 heads x 64 x 32 x 64; decode: 8 heads x 1 x 32 x (100 cached + 1 new)
    assert sp["layers.0.attn.scores"].macs == 8 * 64 * hd * 64
    assert sd["layers.0.attn.scores"].macs == 8 * 1 * hd * 101
    assert sd["layers.0.attn.context"].macs == 8 * 1 * 101 * hd
    assert dec.inputs["layers.1.attn.k_cache"] == (100, kv * hd)
    assert pre.weight_count == dec.weight_count == llama_weights(256, 2, 512, 1000, 8, 2)
    for net in (pre, dec):
        p = map_network(net, hw)
        for method in (aras, jit):
            assert evaluate(p, method(p)).valid


@pytest.mark.parametrize("mt", ["mistral", "qwen2"])
def test_llama_style_model_types(mt: str) -> None:
    net = from_config({**TINY_LLAMA, "model_type": mt}, name=mt)
    assert net.weight_count == llama_weights(256, 2, 512, 1000, 8, 2)


def test_bert_config_heads() -> None:
    base = {"model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12,
            "num_attention_heads": 12, "intermediate_size": 3072, "vocab_size": 30522,
            "max_position_embeddings": 512}
    encoder = 12 * (4 * 768 * 768 + 2 * 768 * 3072)
    qa = from_config({**base, "architectures": ["BertForQuestionAnswering"]}, name="q")
    assert qa.weight_count == encoder + 768 * 2 == load_network("bert-base").weight_count
    assert from_config(base, name="b").weight_count == encoder + 768 * 768  # pooler
    mlm = from_config({**base, "architectures": ["BertForMaskedLM"]}, name="m")
    assert mlm.weight_count == encoder + 768 * 768 + 768 * 30522
    cls = from_config({**base, "architectures": ["BertForSequenceClassification"],
                       "id2label": {"0": "a", "1": "b", "2": "c"}}, name="c")
    assert cls.weight_count == encoder + 768 * 768 + 768 * 3


@pytest.mark.parametrize("change,match", [
    ({"hidden_size": None}, "missing key 'hidden_size'"),
    ({"num_hidden_layers": -3}, "'num_hidden_layers' must be a positive integer"),
    ({"model_type": "mamba"}, "model_type 'mamba' is not supported"),
    ({"num_key_value_heads": 3}, "num_key_value_heads 3 must divide"),
])
def test_bad_configs(tmp_path: Path, change: dict, match: str) -> None:
    cfg = {k: v for k, v in {**TINY_LLAMA, **change}.items() if v is not None}
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg))
    with pytest.raises(InputError, match=match):
        load_network(str(p))


def test_lengths_are_checked() -> None:
    with pytest.raises(InputError, match="^tokens: .* allows at most 512 positions, got 513$"):
        from_config(TINY_LLAMA, name="t", tokens=513)
    with pytest.raises(InputError, match="^context: only for the decode phase$"):
        from_config(TINY_LLAMA, name="t", context=10)
    with pytest.raises(InputError, match="does not apply"):
        load_network("resnet50", tokens=12)


# ----------------------------------------------------------------------------- wider zoo
def _bn(channels: list[int]) -> int:
    """BatchNorm parameters (scale and shift) of layers with these output channels."""
    return 2 * sum(channels)


def test_resnet18_and_101_published_counts() -> None:
    # torchvision totals: 11,689,512 and 44,549,160 (fc bias 1000, every BN's 2 x channels)
    r18 = [64] + [64] * 4 + [128] * 5 + [256] * 5 + [512] * 5
    assert load_network("resnet-18").weight_count == 11_689_512 - 1000 - _bn(r18)
    r101: list[int] = [64]
    for blocks, w in ((3, 64), (4, 128), (23, 256), (3, 512)):
        r101 += [w, w, 4 * w] * blocks + [4 * w]   # + downsample BN
    assert load_network("resnet-101").weight_count == 44_549_160 - 1000 - _bn(r101)


def test_mobilenet_v2_published_count_and_depthwise_packing() -> None:
    # torchvision total 3,504,872: minus the classifier bias and every BN
    chans, c = [32], 32
    for t, co, n, _ in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                        (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for _ in range(n):
            hid = c * t
            chans += ([hid] if t != 1 else []) + [hid, co]
            c = co
    chans.append(1280)
    net = load_network("mobilenet-v2")
    assert net.weight_count == 3_504_872 - 1000 - _bn(chans)
    dw = [o for o in net.ops if o.kind == "conv2d" and o.attrs["groups"] > 1]
    assert len(dw) == 17
    # a depthwise 3x3 over 32 channels: 9 rows per group, 14 groups per 128-row segment,
    # ceil(32 / 14) = 3 segments of ceil(14 / 128) = 1 column block
    from aras.model.mapping import apu_rows_of

    first = dw[0]
    assert first.matrix == (32, 9, 1) and apu_rows_of(first, aras_hardware()) == 3


def test_vit_b_16_count() -> None:
    # torchvision total 86,567,656 = these weights + class token, position embedding (197 x
    # 768), biases of the patch conv, qkv, out, mlp and head, and 25 LayerNorms
    w = 768 * 3 * 16 * 16 + 12 * (4 * 768 * 768 + 2 * 768 * 3072) + 768 * 1000
    other = 768 + 197 * 768 + 768 + 12 * (3 * 768 + 768 + 3072 + 768) + 1000 + 25 * 2 * 768
    assert w + other == 86_567_656
    net = load_network("vit-b-16")
    assert net.weight_count == w
    assert map_network(net, aras_hardware()).by_key[("encoder.layers.0.attn.q", 0)].windows \
        == 197


def test_every_zoo_entry_has_a_family() -> None:
    assert {"mobilenet-v2", "resnet-18", "resnet-101", "vit-b-16", "gpt2",
            "llama-2-7b"} <= set(ZOO)
    assert all(e.family for e in ZOO.values())


def test_cli_networks_show_llama_json_and_bad_config(tmp_path: Path) -> None:
    from tests.helpers import cli_inprocess as run_cli

    r = run_cli("networks", "show", str(NETS / "llama-2-7b.config.json"), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["summary"]["weights"] == 6_607_077_376
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps({"model_type": "gpt2", "n_layer": 2}))
    r = run_cli("solve", str(bad))
    assert r.returncode == 2 and "missing key 'n_embd'" in r.stderr
    assert "Traceback" not in r.stderr


def test_schedule_remembers_its_config_and_phase(tmp_path: Path) -> None:
    from tests.helpers import cli_inprocess as run_cli

    cfg = tmp_path / "tiny.config.json"
    cfg.write_text(json.dumps(TINY_LLAMA))
    out = tmp_path / "s.json"
    r = run_cli("solve", str(cfg), "--phase", "decode", "--context", "40", "-o", str(out),
                "--json")
    assert r.returncode == 0, r.stderr
    ev = run_cli("evaluate", str(out), "--json")  # config, phase and context from the file
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout)["makespan_cycles"] == json.loads(r.stdout)["makespan_cycles"]
    cfg.unlink()
    gone = run_cli("evaluate", str(out))
    assert gone.returncode == 2 and "pass --network FILE" in gone.stderr


def test_load_network_takes_a_config_dict() -> None:
    # research code that builds configs need not write a file first
    import pytest

    from aras import load_network
    from aras.model.errors import InputError

    cfg = {"model_type": "bert", "hidden_size": 64, "num_hidden_layers": 2,
           "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100,
           "max_position_embeddings": 64}
    a = load_network(cfg, tokens=16)
    assert a.name == "bert" and len(a.weighted_ops) > 0
    with pytest.raises(InputError, match="model_type must be a string"):
        load_network({"model_type": ["bert"]})
    with pytest.raises(TypeError, match="spec"):
        load_network(5)  # type: ignore[arg-type]
