"""Methods of one's own: registered names, specs, entry points, studies on spawned workers,
and error messages that name arguments from Python and flags from the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import aras
from aras.frontends import load_network
from aras.methods import solve as solve_module
from aras.methods.heuristics import baseline
from aras.methods.solve import check_options, method_spec, resolve_method, solve
from aras.model.errors import InputError
from aras.model.hardware import load_hardware
from aras.model.mapping import Problem, map_network
from aras.model.plugins import entry_points, import_object, object_spec
from aras.studies.run import load_results, run_study
from aras.studies.study import load_study
from tests.helpers import ROOT, cli_inprocess, tiny_network
from tests.plugins.toy_method import toy

SPEC = "tests.plugins.toy_method:toy"
PLUGIN_FILE = ROOT / "tests" / "plugins" / "toy_method.py"


@pytest.fixture
def registry() -> Iterator[None]:
    """Undo the registrations a test makes (the registry is process-wide)."""
    methods, descriptions = dict(solve_module.METHODS), dict(solve_module.DESCRIPTIONS)
    yield
    solve_module.METHODS.clear()
    solve_module.METHODS.update(methods)
    solve_module.DESCRIPTIONS.clear()
    solve_module.DESCRIPTIONS.update(descriptions)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("net") / "tiny.json"
    tiny_network().save(path)
    return path


@pytest.fixture(scope="module")
def problem(tiny_file: Path) -> Problem:
    return map_network(load_network(str(tiny_file)), load_hardware("aras"))


@pytest.fixture(scope="module")
def baseline_cycles(problem: Problem) -> int:
    """The makespan every toy run must give: the baseline heuristic's, called directly."""
    return baseline(problem).makespan


def test_registered_name_spec_and_function_run_through_solve(registry, problem,
                                                            baseline_cycles) -> None:
    aras.register("toy-name", toy)
    assert solve_module.DESCRIPTIONS["toy-name"] == ("The paper's baseline, recorded as method "
                                                     "'toy'.")
    for method, name in (("toy-name", "toy-name"), (SPEC, SPEC), (toy, "toy-name"),
                         (f"{PLUGIN_FILE}:toy", f"{PLUGIN_FILE}:toy")):
        res = solve(problem, method=method)
        assert res.method == name
        assert res.status.value in ("feasible", "optimal")
        assert res.schedule is not None and res.schedule.method == "toy"  # toy ran
        assert res.objective == baseline_cycles
    # an unregistered function is named by its spec
    solve_module.METHODS.pop("toy-name")
    assert solve(problem, method=toy).method == SPEC


def test_register_refuses_bad_names_builtins_and_non_functions(registry) -> None:
    with pytest.raises(InputError, match=r"^name: 'baseline' is a built-in method"):
        aras.register("baseline", toy)
    aras.register("baseline", toy, replace=True)
    assert solve_module.METHODS["baseline"] is toy
    for bad in ("", "a:b", "x/y", "two words"):
        with pytest.raises(InputError, match="^name: a method name"):
            aras.register(bad, toy)
    with pytest.raises(InputError, match="^fn: a method is a function"):
        aras.register("n", 3)


def test_unknown_methods_name_the_argument_in_python_and_the_flag_in_the_cli(
        problem, tiny_file) -> None:
    with pytest.raises(InputError, match=r"^method: unknown method 'x' \(known: naive, "):
        solve(problem, method="x")
    with pytest.raises(InputError, match=r"^method: 'nosuchpkg\.mod:f': no module named "
                                         r"'nosuchpkg'"):
        solve(problem, method="nosuchpkg.mod:f")
    with pytest.raises(InputError, match=r"^method: 'tests\.plugins\.toy_method:nope': "
                                         r"tests\.plugins\.toy_method has no attribute 'nope'"):
        resolve_method("tests.plugins.toy_method:nope")
    with pytest.raises(InputError, match="^method: 'tests.plugins.toy_method:NOT_A_METHOD' "
                                         "is a int, not a method"):
        resolve_method("tests.plugins.toy_method:NOT_A_METHOD")
    with pytest.raises(InputError, match=r"^window: must be >= 1, got 0$"):
        check_options(None, {"window": 0})
    with pytest.raises(InputError, match=r"^solver: unknown solver 'bogus'"):
        solve(problem, method="milp", solver="bogus")
    r = cli_inprocess("solve", str(tiny_file), "-m", "x")
    assert r.returncode == 2
    assert r.stderr.startswith("error: --method: unknown method 'x' (known: naive, ")
    assert len(r.stderr.strip().splitlines()) == 1
    r = cli_inprocess("solve", str(tiny_file), "-m", SPEC, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["method"] == SPEC
    # and after a CLI run, Python messages name arguments again
    with pytest.raises(InputError, match=r"^time_limit: must be a finite number > 0"):
        check_options(None, {"time_limit": -1.0})


def test_functions_without_an_import_path_are_refused_for_workers(registry) -> None:
    def nested(problem, **options):  # no other process can import this
        return toy(problem, **options)

    assert object_spec(toy) == SPEC and object_spec(nested) is None
    assert object_spec(lambda p: p) is None
    assert method_spec(toy) == (SPEC, SPEC)
    assert method_spec("baseline") == ("baseline", None)
    with pytest.raises(InputError, match=r"^methods\[1\]: method '.*nested' cannot be imported "
                                         r"by worker processes"):
        method_spec(nested, "methods[1]")
    aras.register("toy-lambda", lambda problem, **o: toy(problem, **o))
    with pytest.raises(InputError, match="^method: method 'toy-lambda' cannot be imported"):
        method_spec("toy-lambda")


def _study_file(tmp_path: Path, tiny_file: Path, methods: list[str]) -> Path:
    p = tmp_path / "study.toml"
    p.write_text(f'name = "own"\nnetworks = ["{tiny_file}"]\nmethods = {json.dumps(methods)}\n')
    return p


def test_study_runs_methods_of_ones_own_on_two_spawned_workers(registry, tmp_path, tiny_file,
                                                               baseline_cycles) -> None:
    # A registration made here does not exist in the spawned workers: the study carries the
    # function's spec to them. The plugin file is named relative to the study file.
    aras.register("toy-registered", toy)
    (tmp_path / "mine.py").write_text(PLUGIN_FILE.read_text())
    study = load_study(_study_file(tmp_path, tiny_file, [
        "baseline", SPEC, "toy-registered", "mine.py:toy"]))
    specs = {t.method: t.method_spec for t in study.tasks}
    assert specs == {"baseline": None, SPEC: SPEC, "toy-registered": SPEC,
                     "mine.py:toy": f"{tmp_path / 'mine.py'}:toy"}
    run = run_study(study, tmp_path / "out", workers=2)
    assert (run.finished, run.failed) == (4, 0)
    recs = {r["method"]: r for r in load_results(tmp_path / "out")}
    assert set(recs) == set(specs)
    for m, r in recs.items():
        assert r["status"] == "feasible", r.get("error")
        assert r["makespan_cycles"] == baseline_cycles
        assert r.get("method_spec") == specs[m]
        sched = json.loads((tmp_path / "out" / r["schedule"]).read_text())
        assert sched["method"] == ("baseline" if m == "baseline" else "toy")


def test_study_methods_from_python_and_field_errors(tmp_path, tiny_file) -> None:
    f = _study_file(tmp_path, tiny_file, ["baseline"])
    study = load_study(f, methods=["aras", toy])
    assert [(t.method, t.method_spec) for t in study.tasks] == [("aras", None), (SPEC, SPEC)]
    with pytest.raises(InputError, match=r"^methods\[1\]: unknown method 'x'"):
        load_study(f, methods=["aras", "x"])
    with pytest.raises(InputError, match=r"^methods: a method is listed twice"):
        load_study(f, methods=[SPEC, toy])
    with pytest.raises(InputError, match=r"^study\.toml: methods\[1\]: unknown method 'x'"):
        load_study(_study_file(tmp_path, tiny_file, ["aras", "x"]))
    r = cli_inprocess("study", str(_study_file(tmp_path, tiny_file, ["aras", "x"])))
    assert r.returncode == 2 and "error: study.toml: methods[1]: unknown method 'x'" in r.stderr


def _distribution(root: Path, entry_points_txt: str) -> None:
    """An installed distribution as importlib.metadata finds it: a dist-info directory."""
    info = root / "toyplug-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points_txt))


def test_entry_points_of_installed_distributions(monkeypatch, tmp_path, problem,
                                                 baseline_cycles) -> None:
    _distribution(tmp_path, """\
        [aras.methods]
        plug-toy = tests.plugins.toy_method:toy
        plug-broken = tests.plugins.no_such_module:toy

        [aras.families]
        plug-family = tests.plugins.toy_method:NOT_A_METHOD
        """)
    monkeypatch.syspath_prepend(str(tmp_path))
    res = solve(problem, method="plug-toy")
    assert res.method == "plug-toy" and res.objective == baseline_cycles
    assert res.schedule is not None and res.schedule.method == "toy"
    assert method_spec("plug-toy") == ("plug-toy", SPEC)
    with pytest.raises(InputError, match=r"^method: entry point 'plug-broken' = "
                                         r"'tests\.plugins\.no_such_module:toy' of group "
                                         r"'aras\.methods' \(distribution toyplug\) failed to "
                                         r"load: ModuleNotFoundError"):
        solve(problem, method="plug-broken")
    with pytest.raises(InputError, match=r"^method: unknown method 'x' \(known: .*plug-toy"):
        resolve_method("x")
    # the loader is generic: another group (formulation families) reads the same way
    fams = entry_points("aras.families")
    assert list(fams) == ["plug-family"] and fams["plug-family"].load() == 42
    listing = cli_inprocess("methods")
    assert listing.returncode == 0
    assert "plug-toy" in listing.stdout and "installed with toyplug" in listing.stdout


def test_import_object_file_specs(tmp_path) -> None:
    (tmp_path / "m.py").write_text("def f(problem, **o):\n    return 7\n\nclass C:\n"
                                   "    def g(self):\n        return 1\n")
    f = import_object("m.py:f", "method", base=tmp_path)
    assert f(None) == 7
    assert import_object(f"{tmp_path / 'm.py'}:f", "method") is f  # loaded once
    assert import_object("m.py:C.g", "method", base=tmp_path).__qualname__ == "C.g"
    assert object_spec(f) == f"{(tmp_path / 'm.py').resolve()}:f"
    with pytest.raises(InputError, match=r"^method: 'nope\.py:f': no file "):
        import_object("nope.py:f", "method", base=tmp_path)
    with pytest.raises(InputError, match=r"^method: '1bad:f': '1bad' is not a module name"):
        import_object("1bad:f", "method")


SCRIPT = """\
import sys
from aras.methods.heuristics import baseline
from aras.studies.run import load_results, run_study
from aras.studies.study import load_study


def mine(problem, banks="greedy", **options):
    '''Defined in the script itself.'''
    return baseline(problem, method="mine", banks=banks)


{body}
"""


def _script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "run_it.py"
    path.write_text(SCRIPT.format(body=textwrap.dedent(body)))
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_study_script_needs_the_main_guard_and_says_so(tmp_path, tiny_file) -> None:
    study = _study_file(tmp_path, tiny_file, ["baseline"])
    r = _script(tmp_path, f"""\
        run_study(load_study({str(study)!r}, methods=["baseline", mine]), "out", workers=2)
        """)
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    line = (tmp_path / "run_it.py").read_text().splitlines().index(
        f"run_study(load_study({str(study)!r}, methods=[\"baseline\", mine]), \"out\", "
        "workers=2)") + 1
    assert last == (f"RuntimeError: run_study: called from the top level of "
                    f"{tmp_path / 'run_it.py'} (line {line}); put the study under "
                    "`if __name__ == \"__main__\":` (spawned worker processes run the script's "
                    "top level again)")
    assert not (tmp_path / "out").exists()  # refused before any work
    # Under the guard, a function of the script itself (registered inside the guard, so the
    # workers never see the registration) runs on the spawned workers.
    r = _script(tmp_path, f"""\
        if __name__ == "__main__":
            import aras
            aras.register("mine", mine)
            run = run_study(load_study({str(study)!r}, methods=["baseline", "mine"]), "out",
                            workers=2)
            recs = {{r["method"]: r for r in load_results("out")}}
            print(run.failed, recs["mine"]["status"], recs["mine"]["makespan_cycles"],
                  recs["baseline"]["makespan_cycles"], recs["mine"]["method_spec"])
        """)
    assert r.returncode == 0, r.stderr
    failed, status, mine_cycles, base_cycles, spec = r.stdout.split()
    assert (failed, status, mine_cycles) == ("0", "feasible", base_cycles)
    assert spec == f"{tmp_path / 'run_it.py'}:mine"
