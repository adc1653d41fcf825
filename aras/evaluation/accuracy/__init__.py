"""Accuracy of a per-layer precision assignment, measured on real weights and real outputs.

A precision assignment gives each weight-bearing layer its weight bits ``b_w`` and the bits
``b_a`` of the activations it reads. The hardware's baseline is INT8 everywhere
(``b_w = b_a = 8``). What this package measures is what an assignment does to a network's
outputs, against the float model.

The quantisation rule
---------------------
- **Weights** are quantised per layer (one range for the whole weight tensor) to unsigned
  codes ``0 .. 2^b - 1`` by min-max, paper Eq. 6 generalised to ``b`` bits:
  ``scale = (max(W) - min(W)) / (2^b - 1)`` (1 for a constant tensor),
  ``zero_point = clip(round(-min(W) / scale), 0, 2^b - 1)``,
  ``q = clip(round(W / scale) + zero_point, 0, 2^b - 1)``, and de-quantised back to
  ``(q - zero_point) * scale`` (fake quantisation). At ``b = 8`` this is
  :func:`aras.frontends.pretrained.quantize_uint8`.
- **Weights stored as integer codes** (INT8 exports: int8/uint8 initializers reaching the
  layer through ``DequantizeLinear`` or scale arithmetic, as read by
  :mod:`aras.frontends.onnx_graph`) are requantised from their codes: Eq. 6 on the codes'
  offsets from their minimum, so codes whose range fits in ``2^b`` levels stay exactly as
  they are (INT8 codes at 8 bits are unchanged), then de-quantised by the model's own
  scales. Layers computing directly on integers (``MatMulInteger``, ``ConvInteger``,
  ``QLinear*``, ``DynamicQuantizeLSTM``) are refused.
- **Activations** entering a weight-bearing layer are fake-quantised per tensor, asymmetric
  min-max by the same Eq. 6 at ``b_a`` bits, over a static range: the minimum and maximum of
  that input over the calibration set, on the float model.
- Biases, normalisations, embeddings and everything outside the weight-bearing layers stay
  float.

Measures
--------
- :func:`agreement`: top-1 agreement for classifiers, mean cosine similarity for embeddings,
  mean absolute error otherwise, against the float model.
- :func:`sensitivity`: per layer and candidate bits, the weight quantisation error
  ``||W - Q_b(W)|| / ||W||`` and the output error that layer alone at ``b`` bits adds over
  all-INT8 (clipped at 0). :meth:`Sensitivity.from_table` reads a user's table for a network
  without real weights; :meth:`Sensitivity.from_codes` gives a codes-only weight error.

Runners: :class:`OnnxRunner` (onnxruntime; ``pip install 'aras[accuracy]'``) and
:class:`MiniLMRunner` (numpy; ``pip install 'aras[minilm,accuracy]'``).
"""

from __future__ import annotations

from aras.evaluation.accuracy.measure import (
    KINDS,
    METRICS,
    Agreement,
    Calibration,
    Sensitivity,
    agreement,
    load_calibration,
    output_error,
    random_calibration,
    sensitivity,
)
from aras.evaluation.accuracy.minilm import MiniLMRunner
from aras.evaluation.accuracy.quant import (
    BITS,
    fake_quantize,
    qparams,
    requantize_codes,
    weight_error,
)
from aras.evaluation.accuracy.runners import InputSpec, OnnxRunner, Runner, check_inputs

__all__ = ["BITS", "KINDS", "METRICS", "Agreement", "Calibration", "InputSpec", "MiniLMRunner",
           "OnnxRunner", "Runner", "Sensitivity", "agreement", "check_inputs", "fake_quantize",
           "load_calibration", "output_error", "qparams", "random_calibration",
           "requantize_codes", "sensitivity", "weight_error"]
