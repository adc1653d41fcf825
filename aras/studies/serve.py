"""Serving a stream of requests for several models (``aras serve MIX.toml``).

A mix file (TOML) names the models and their shares of the requests::

    requests = 12            # inferences in the stream (1 .. 1,000)
    order = "random"         # "random" (seeded draws by share) or "fixed" (smooth
    seed = 0                 #  weighted round robin: the shares spread evenly)
    method = "aras"          # scheduler of the whole stream: "baseline", "aras" or "jit"
    hardware = "aras"        # built-in name or TOML file (relative to the mix file)
    steady = false           # also the mix repeated forever as one periodic schedule
    batch = 1                # inferences per request, computed together (1 .. 4,096)
    [models]                 # built-in names or network files, with their shares
    bert-base = 0.5
    resnet50 = 0.3
    vgg16 = 0.2

The stream is one schedule of one network made of every request's ops (renamed
``r<i>:<op>``, no edges between requests, computed request by request): the list scheduler
writes the next request's first layers into the rows that the current request frees, so
there is no cold start between requests (only the first request starts with every row free,
and the first write of each row overwrites what the end of the stream left, the evaluator's
steady-state convention). The isolated evaluator validates the whole stream, so every
transition between two models is checked against R1-R8 at once. Each request's latency is
from its first write to its last compute end; the comparison is every request run in
isolation, one after the other, by the same method. With ``steady = true`` the whole mix,
repeated forever, is also scheduled as one periodic schedule (its period holds every request;
the periodic evaluator validates the wrap from the last request back to the first as well).
With ``batch = B`` every request is a batch of B inferences of its model (docs/model.md,
"Batch"): throughputs and energies per inference count B inferences a request, latencies are
those of a request's batch; periodic streams (``steady``) are not defined for B > 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from aras.evaluation.evaluator import Report, evaluate
from aras.frontends import load_network
from aras.methods.heuristics import aras, baseline, jit
from aras.model.errors import InputError
from aras.model.files import read_toml
from aras.model.hardware import Hardware, load_hardware
from aras.model.limits import MAX_BATCH, integer, number
from aras.model.mapping import map_network
from aras.model.network import Network
from aras.model.weights import synthetic_stats

#: Most requests in one stream (each is a copy of its network in one mapped problem).
MAX_REQUESTS = 1000
SERVE_METHODS = ("baseline", "aras", "jit")


@dataclass
class Mix:
    """A request mix: models with their shares, how many requests, in which order."""

    models: dict[str, float]
    requests: int = 12
    order: str = "random"
    seed: int = 0
    method: str = "aras"
    hardware: str = "aras"
    steady: bool = False
    base: Path = field(default_factory=Path)
    batch: int = 1


def load_mix(path: str | Path) -> Mix:
    """Read and check a mix file (one-line errors naming the field)."""
    p = Path(path)
    d = read_toml(p, "mix")
    src = str(p)
    known = {"requests", "order", "seed", "method", "hardware", "models", "steady", "batch"}
    for k in d:
        if k not in known:
            raise InputError(f"{src}: unknown field '{k}' (known: {', '.join(sorted(known))})")
    models = d.get("models")
    if not isinstance(models, dict) or not models:
        raise InputError(f"{src}: models: a table of model = share, at least one")
    shares = {str(k): number(v, f"{src}: models.{k}", lo=0, lo_open=True)
              for k, v in models.items()}
    order = d.get("order", "random")
    if order not in ("random", "fixed"):
        raise InputError(f"{src}: order: 'random' or 'fixed', got {order!r}")
    method = d.get("method", "aras")
    if method not in SERVE_METHODS:
        raise InputError(f"{src}: method: one of {', '.join(SERVE_METHODS)}, got {method!r}")
    steady = d.get("steady", False)
    if not isinstance(steady, bool):
        raise InputError(f"{src}: steady: true or false, got {steady!r}")
    batch = integer(d.get("batch", 1), f"{src}: batch", lo=1, hi=MAX_BATCH)
    if steady and batch > 1:
        raise InputError(f"{src}: batch: periodic streams (steady = true) run one inference "
                         "per request")
    hardware = d.get("hardware", "aras")
    if not isinstance(hardware, str):
        raise InputError(f"{src}: hardware: a built-in name or a TOML file, got {hardware!r}")
    return Mix(models=shares,
               requests=integer(d.get("requests", 12), f"{src}: requests", lo=1,
                                hi=MAX_REQUESTS),
               order=order, seed=integer(d.get("seed", 0), f"{src}: seed", lo=0, hi=2**31 - 1),
               method=method, hardware=hardware, steady=steady, base=p.parent, batch=batch)


def request_order(mix: Mix) -> list[str]:
    """The models of the requests, in order: seeded draws by share, or a smooth weighted
    round robin (each step the model furthest behind its share)."""
    names = list(mix.models)
    w = np.array([mix.models[n] for n in names], dtype=float)
    w /= w.sum()
    if mix.order == "random":
        rng = np.random.default_rng(mix.seed)
        return [names[i] for i in rng.choice(len(names), size=mix.requests, p=w)]
    out: list[str] = []
    credit = np.zeros(len(names))
    for _ in range(mix.requests):
        credit += w
        i = int(np.argmax(credit))
        credit[i] -= 1.0
        out.append(names[i])
    return out


def stream_network(nets: dict[str, Network], seq: list[str]) -> Network:
    """One network of every request's ops, renamed ``r<i>:<op>``, requests in order."""
    ops = []
    inputs: dict[str, Any] = {}
    for i, name in enumerate(seq):
        net = nets[name]
        pre = f"r{i}:"
        for k, s in net.inputs.items():
            inputs[pre + k] = s
        for op in net.ops:
            ops.append(replace(op, name=pre + op.name, inputs=tuple(pre + x for x in op.inputs)))
    out = Network("stream", inputs, ops)
    if any(nets[n].codes for n in seq):
        out.codes = {f"r{i}:{k}": v for i, n in enumerate(seq)
                     for k, v in (nets[n].codes or {}).items()}
    return out


def _percentiles(x: list[float]) -> dict[str, float]:
    a = np.array(x, dtype=float)
    return {"p50": float(np.percentile(a, 50)), "p90": float(np.percentile(a, 90)),
            "p99": float(np.percentile(a, 99)), "max": float(a.max())}


def serve(mix: Mix) -> dict[str, Any]:
    """Schedule, validate and cost the stream of a mix, and the same requests in isolation.

    Returns
    -------
    dict
        ``valid`` and the stream's violations; per model its requests, throughput (requests
        per second of the stream), latency percentiles (ms) and isolated latency; overall
        throughput, energy per inference, and the isolated figures beside them.

    Raises
    ------
    InputError
        A model that does not load, hardware that does not load, a stream beyond the
        mapping's limits.
    """
    hw_spec: str | Path = (mix.base / mix.hardware if (mix.base / mix.hardware).is_file()
                           else mix.hardware)
    hw: Hardware = load_hardware(hw_spec)
    nets: dict[str, Network] = {}
    for name in mix.models:
        f = mix.base / name
        nets[name] = load_network(f if f.is_file() else name)
    seq = request_order(mix)
    def fn(problem: Any) -> Any:
        if mix.method == "baseline":
            return baseline(problem)
        return aras(problem) if mix.method == "aras" else jit(problem)

    # each model alone
    alone: dict[str, Report] = {}
    for name, net in nets.items():
        p1 = map_network(net, hw, batch=mix.batch)
        alone[name] = evaluate(p1, fn(p1), weights=net.codes)
        assert alone[name].valid, alone[name].violations
    stream = stream_network(nets, seq)
    p = map_network(stream, hw, batch=mix.batch)
    sched = fn(p)
    # the same weight statistics for every copy of a layer (a request's copy of a layer
    # holds the same weights as the model's)
    stats = {}
    for name, net in nets.items():
        base = synthetic_stats([o.name for o in net.weighted_ops], 0)
        for i, m in enumerate(seq):
            if m == name:
                stats.update({f"r{i}:{k}": v for k, v in base.items()})
    rep = evaluate(p, sched, stats=stats, weights=stream.codes)
    hz = hw.frequency_hz
    out: dict[str, Any] = {"requests": len(seq), "order": mix.order, "method": mix.method,
                           "hardware": hw.name, "sequence": seq, "valid": rep.valid,
                           "violations": [str(v) for v in rep.violations]}
    if not rep.valid:
        return out
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for s in sched.steps:
        i = int(s.layer.split(":", 1)[0][1:])
        first[i] = min(first.get(i, s.start), s.start)
        last[i] = max(last.get(i, s.end), s.end)
    w = sched.writes
    req_of = np.array([int(x.split(":", 1)[0][1:]) for x in w.layer.tolist()], dtype=np.int64)
    for i in range(len(seq)):
        mine = w.start[req_of == i]
        if len(mine):
            first[i] = min(first[i], int(mine.min()))
    lat = {i: (last[i] - first[i]) / hz * 1e3 for i in range(len(seq))}
    make = rep.makespan_cycles
    B = mix.batch  # inferences per request
    iso_time = sum(alone[m].makespan_cycles for m in seq)
    iso_energy = sum(alone[m].energy.total for m in seq)
    per_model = {}
    for name in nets:
        idx = [i for i, m in enumerate(seq) if m == name]
        if not idx:
            continue
        per_model[name] = {"requests": len(idx), "throughput_inf_s": B * len(idx) / (make / hz),
                           "latency_ms": _percentiles([lat[i] for i in idx]),
                           "isolated_latency_ms": alone[name].latency_s * 1e3,
                           "isolated_energy_mj": alone[name].energy.total * 1e3}
        if B > 1:
            per_model[name]["isolated_energy_per_inference_mj"] = (
                alone[name].energy_per_inference_j * 1e3)
    out.update({
        "makespan_s": make / hz, "throughput_inf_s": B * len(seq) / (make / hz),
        "latency_ms": _percentiles(list(lat.values())), "models": per_model,
        "energy_per_inference_mj": rep.energy.total / (B * len(seq)) * 1e3,
        "write_energy_per_inference_mj": rep.energy.rram_write / (B * len(seq)) * 1e3,
        "isolated_makespan_s": iso_time / hz,
        "isolated_throughput_inf_s": B * len(seq) / (iso_time / hz),
        "isolated_energy_per_inference_mj": iso_energy / (B * len(seq)) * 1e3,
        "speedup_vs_isolated": iso_time / make if make else math.inf,
        "row_writes": rep.row_writes,
    })
    if B > 1:
        out["batch"] = B
    if mix.steady:
        out["steady"] = _steady_stream(p, mix.method, stats, stream.codes, len(seq))
    return out


def _steady_stream(p: Any, method: str, stats: Any, codes: Any, n: int) -> dict[str, Any]:
    """The whole mix repeated forever: one periodic schedule of the stream (docs/model.md,
    "Periodic schedules"), validated and costed by the periodic evaluator."""
    from aras.evaluation.periodic import evaluate_periodic
    from aras.evaluation.periodic_bounds import periodic_bounds
    from aras.methods.heuristics.steady import steady

    b = periodic_bounds(p)
    ps = steady(p, method, "none", lower=b.lower)
    r = evaluate_periodic(p, ps, stats=stats, weights=codes)
    hz = p.hardware.frequency_hz
    d: dict[str, Any] = {"valid": r.valid, "violations": [str(v) for v in r.violations],
                         "period_s": ps.period / hz, "lower_bound_s": b.lower / hz}
    if r.valid:
        d.update({"throughput_inf_s": n / (ps.period / hz),
                  "energy_per_inference_mj": r.energy.total / n * 1e3,
                  "write_energy_per_inference_mj": r.energy.rram_write / n * 1e3})
    return d


__all__ = ["Mix", "load_mix", "request_order", "stream_network", "serve", "MAX_REQUESTS"]
