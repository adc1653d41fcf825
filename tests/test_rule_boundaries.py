"""Every rule R1-R8 at its boundary: exactly at the limit accepted, one cycle, row or byte over
rejected with the rule named.

Each schedule is written out by hand below, and the numbers it is checked against come from
the arithmetic in the comments (docs/contract.md sections 2-4), never from the code under
test. The hardware is :func:`tests.helpers.tiny_hardware` unless a test says otherwise: one
PE, write_latency_cycles T = 1000, compute_latency_cycles 96 per window, 4 APUs per row of
128x128 cells at 2 bits (4096 bytes per APU write).

The two-layer network (:func:`tests.helpers.tiny_network`): x (4, 4, 4) -> c1 (1x1 conv 4->8)
-> c2 (1x1 conv 8->8). Each conv has 16 windows (4 x 4) and 1 APU row (ceil(4/128) x
ceil(8/128) and ceil(8/128) x ceil(8/128)); its compute at replication 1 lasts 16 x 96 = 1536
cycles, at replication 2 ceil(16/2) x 96 = 768. Activations: x = 4*4*4 = 64 bytes,
c1 = c2 = 8*4*4 = 128 bytes.
"""

from __future__ import annotations

import pytest

from aras.evaluation.evaluator import evaluate, validate
from aras.model.hardware import Hardware
from aras.model.mapping import map_network
from aras.model.network import Network, NetworkBuilder
from aras.model.schedule import Schedule, ScheduledStep, Writes
from tests.helpers import tiny_hardware, tiny_network

T = 1000
C1 = 16 * 96  # 1536: one c1 or c2 compute at replication 1


def step(layer: str, start: int, end: int, banks_in: tuple[int, ...] = (0,),
         banks_out: tuple[int, ...] = (1,), *, rep: int = 1, rows: int = 1, windows: int = 16,
         part: int = 0) -> ScheduledStep:
    return ScheduledStep(layer, part, rows, rep, windows, start, end, banks_in, banks_out)


def sched(hw: Hardware, steps: list[ScheduledStep],
          writes: list[tuple[str, int, int, int]], tiles: list[int] | None = None) -> Schedule:
    """``writes``: (layer, pe, row, start) of part 0; the makespan is the last step's end."""
    w = Writes.from_lists([x[0] for x in writes], [0] * len(writes), [x[1] for x in writes],
                          [x[2] for x in writes], [x[3] for x in writes], tiles)
    return Schedule("t", "hand", hw.to_dict(), steps, w, max(s.end for s in steps))


def ok(net: Network, hw: Hardware, s: Schedule) -> None:
    p = map_network(net, hw)
    assert validate(p, s) == [], [str(v) for v in validate(p, s)]
    assert evaluate(p, s).valid


def broken(net: Network, hw: Hardware, s: Schedule, rule: str, *needles: str) -> list[str]:
    """The schedule breaks ``rule`` and nothing else; some message holds every needle."""
    v = validate(map_network(net, hw), s)
    assert v, "the schedule should be invalid"
    assert {x.rule for x in v} == {rule}, [str(x) for x in v]
    msgs = [x.message for x in v]
    assert any(all(n in m for n in needles) for m in msgs), msgs
    assert not evaluate(map_network(net, hw), s).valid
    return msgs


def two_layers(hw: Hardware, c2_write: int = 0, c2_row: int = 1, c2_start: int = T + C1,
               **kw: object) -> Schedule:
    """c1 written on row 0 at 0 and computed [1000, 2536); c2 written on ``c2_row`` at
    ``c2_write`` and computed from ``c2_start`` for 1536 cycles."""
    return sched(hw, [step("c1", T, T + C1, (0,), (1,)),
                      step("c2", c2_start, c2_start + C1, (1,), (2,))],
                 [("c1", 0, 0, 0), ("c2", 0, c2_row, c2_write)])


# ----- R1: exactly replication x apu_rows writes -----

HW4 = tiny_hardware(apu_rows_per_pe=4)  # 4 rows, so that a replica has a row of its own


def _replicated(n_c2_writes: int, rep: int = 2) -> Schedule:
    # c1 on row 0 as above; c2 replicated twice: ceil(16/2) x 96 = 768 cycles, [2536, 3304).
    writes = [("c1", 0, 0, 0)] + [("c2", 0, 1 + k, 0) for k in range(n_c2_writes)]
    return sched(HW4, [step("c1", T, 2536, (0,), (1,)),
                       step("c2", 2536, 2536 + 768, (1,), (2,), rep=rep)], writes)


def test_r1_replication_two_needs_exactly_two_writes():
    ok(tiny_network(), HW4, _replicated(2))
    # 2 x 1 = 2 writes are needed: one more or one fewer breaks R1.
    broken(tiny_network(), HW4, _replicated(3), "R1", "c2/0", "3 writes", "needs 2")
    broken(tiny_network(), HW4, _replicated(1), "R1", "c2/0", "1 writes", "needs 2")


def test_r1_replication_zero_is_rejected_even_without_writes():
    # replication 0 with 0 writes: 0 x 1 writes match, but a weight-bearing part needs r >= 1.
    s = sched(HW4, [step("c1", T, 2536, (0,), (1,)), step("c2", 2536, 2536 + C1, (1,), (2,),
                                                           rep=0)], [("c1", 0, 0, 0)])
    broken(tiny_network(), HW4, s, "R1", "c2/0", "replication 0 must be >= 1")


@pytest.mark.parametrize("rows", [0, 2])
def test_r1_apu_rows_must_be_the_mapping_s(rows):
    s = two_layers(tiny_hardware())
    s.steps[1].apu_rows = rows  # the mapping gives ceil(8/128) x ceil(8/128) = 1
    broken(tiny_network(), tiny_hardware(), s, "R1", "c2/0", f"apu_rows {rows}", "gives 1")


def test_r1_weightless_op_has_no_replication_rows_or_writes():
    net, hw = pool_first_network(), tiny_hardware()
    s = pool_first(hw, 0)
    ok(net, hw, s)
    s.steps[0].replication = 1
    broken(net, hw, s, "R1", "p/0", "weightless op")


def wide_network() -> Network:
    """x (4, 2, 2) -> w (1x1 conv 4->256): ceil(4/128) x ceil(256/128) = 2 APU rows (tiles),
    4 windows (4 x 96 = 384 cycles), 256 x 4 = 1024 output bytes."""
    b = NetworkBuilder("wide", {"x": (4, 2, 2)})
    b.conv("w", "x", 4, 256, 1)
    return b.build()


@pytest.mark.parametrize("tiles,good", [([0, 1], True), ([1, 0], True), ([0, 0], False),
                                        ([0, 2], False), ([0, -1], False)])
def test_r1_explicit_tiles_each_exactly_once(tiles, good):
    # w at replication 1: its 2 tiles (0 and 1) each written once, on rows 0 and 1 at 0.
    s = sched(HW4, [step("w", T, T + 384, (0,), (1,), rows=2, windows=4)],
              [("w", 0, 0, 0), ("w", 0, 1, 0)], tiles)
    if good:
        ok(wide_network(), HW4, s)
    else:
        broken(wide_network(), HW4, s, "R1", "w/0", "tiles must each be written 1 time")


# ----- R2: holds of one row never overlap (half-open) -----

def test_r2_next_write_exactly_when_the_row_is_released():
    # c1 holds row 0 over [0, 2536) (write start to compute end). c2 written on row 0 at 2536
    # ends at 3536, so c2 computes [3536, 5072): the holds touch but do not overlap.
    hw = tiny_hardware()
    ok(tiny_network(), hw, two_layers(hw, c2_write=2536, c2_row=0, c2_start=3536))


def test_r2_one_cycle_of_overlap():
    # Written at 2535 the c2 write overlaps c1's hold [0, 2536) by 1 cycle; the write ends at
    # 3535 <= 3536, so R3 still holds.
    hw = tiny_hardware()
    broken(tiny_network(), hw, two_layers(hw, c2_write=2535, c2_row=0, c2_start=3536), "R2",
           "(pe 0, row 0)", "[0, 2536)", "c2/0 is written at 2535")


def test_r2_holds_until_the_compute_ends_not_the_write():
    # c1's write ends at 1000 but c1 computes until 2536: a write at 1000 on row 0 clashes.
    hw = tiny_hardware()
    broken(tiny_network(), hw, two_layers(hw, c2_write=1000, c2_row=0, c2_start=3536), "R2",
           "[0, 2536)", "written at 1000")


def test_r2_two_replicas_on_one_row():
    # c2's two copies both on row 1 at 0: both hold [0, 3304).
    s = _replicated(2)
    s.writes = Writes.from_lists(["c1", "c2", "c2"], [0, 0, 0], [0, 0, 0], [0, 1, 1], [0, 0, 0])
    broken(tiny_network(), HW4, s, "R2", "(pe 0, row 1)", "[0, 3304)")


# ----- R3: a write lasts T and ends no later than its part's compute start -----

def test_r3_write_ends_exactly_at_the_compute_start():
    # c2 computes from 2536; written at 2536 - 1000 = 1536 it ends exactly then. (c1 is at
    # its boundary too: written at 0, computed from 1000.)
    hw = tiny_hardware()
    ok(tiny_network(), hw, two_layers(hw, c2_write=1536))


def test_r3_write_ends_one_cycle_after_the_compute_start():
    hw = tiny_hardware()
    broken(tiny_network(), hw, two_layers(hw, c2_write=1537), "R3", "c2/0",
           "ends at 2537", "starts at 2536")


def test_r3_uses_the_hardware_write_latency():
    # With T = 1001 the c1 write at 0 ends at 1001, one cycle after c1 starts at 1000.
    hw = tiny_hardware(write_latency_cycles=1001)
    broken(tiny_network(), hw, two_layers(hw), "R3", "c1/0", "ends at 1001", "starts at 1000")


# ----- R4: one compute at a time, in DAG order -----

def test_r4_consumer_starts_exactly_when_the_producer_ends():
    hw = tiny_hardware()
    ok(tiny_network(), hw, two_layers(hw, c2_start=2536))


def test_r4_one_cycle_of_compute_overlap():
    # c2 starting at 2535 overlaps c1's [1000, 2536) by one cycle (and reads c1 early).
    hw = tiny_hardware()
    msgs = broken(tiny_network(), hw, two_layers(hw, c2_start=2535), "R4",
                  "c2/0 starts at 2535", "ends at 2536")
    assert any("c2 reads c1" in m for m in msgs)


def test_r4_independent_steps_one_cycle_apart():
    # Two branches a, b of x; listed b then a. b [1000, 2536), a from 2536 is fine, 2535 not.
    net, hw = branches_network(), HW4
    for a_start, good in ((2536, True), (2535, False)):
        s = sched(hw, [step("b", T, T + C1, (0,), (1,)), step("a", a_start, a_start + C1,
                                                                (0,), (2,)),
                       step("s", a_start + C1, a_start + C1, (1, 2), (0,), rep=0, rows=0,
                            windows=0)],
                  [("b", 0, 0, 0), ("a", 0, 1, 0)])
        if good:
            ok(net, hw, s)
        else:
            broken(net, hw, s, "R4", "a/0 starts at 2535", "b/0 (listed before it) ends at 2536")


def branches_network() -> Network:
    """x (4, 4, 4) -> a, b (1x1 convs 4->8) -> s = add(a, b): a and b in either order."""
    b = NetworkBuilder("br", {"x": (4, 4, 4)})
    b.conv("a", "x", 4, 8, 1)
    b.conv("b", "x", 4, 8, 1)
    b.add("s", "add", ["a", "b"])
    return b.build()


def test_r4_zero_cycle_steps_keep_the_dag_order():
    # x -> p (pool, 0 cycles) -> q (pool, 0 cycles) -> c1. p and q both at [0, 0): the times
    # cannot tell them apart, the listed order must respect p -> q.
    net, hw = pools_network(), tiny_hardware()
    p = step("p", 0, 0, (0,), (1,), rep=0, rows=0, windows=0)
    q = step("q", 0, 0, (1,), (2,), rep=0, rows=0, windows=0)
    c = step("c1", T, T + C1, (2,), (0,))
    ok(net, hw, sched(hw, [p, q, c], [("c1", 0, 0, 0)]))
    broken(net, hw, sched(hw, [q, p, c], [("c1", 0, 0, 0)]), "R4", "q reads p")


def pools_network() -> Network:
    b = NetworkBuilder("pools", {"x": (4, 4, 4)})
    b.pool("p", "x")
    b.pool("q", "p")
    b.conv("c1", "q", 4, 8, 1)
    return b.build()


def test_r4_every_step_exactly_once():
    hw = tiny_hardware()
    s = two_layers(hw)
    s.steps.append(step("c2", 4072, 4072 + C1, (1,), (2,)))
    s.makespan = 4072 + C1
    broken(tiny_network(), hw, s, "R4", "c2/0: computed more than once")
    s = two_layers(hw)
    s.steps.append(step("c3", 4072, 4072, (1,), (2,), rep=0, rows=0, windows=0))
    broken(tiny_network(), hw, s, "R4", "c3/0: no such op/part")


# ----- R5: compute lasts ceil(windows / r) x compute_latency -----

@pytest.mark.parametrize("length,good", [(C1, True), (C1 + 1, False), (C1 - 1, False)])
def test_r5_duration_exactly_windows_times_latency(length, good):
    hw = tiny_hardware()
    s = sched(hw, [step("c1", T, T + C1, (0,), (1,)), step("c2", 2536, 2536 + length,
                                                           (1,), (2,))],
              [("c1", 0, 0, 0), ("c2", 0, 1, 0)])
    if good:
        ok(tiny_network(), hw, s)
    else:
        broken(tiny_network(), hw, s, "R5", f"lasts {length} cycles", "needs 1536")


def odd_network() -> Network:
    """x (4, 3, 3) -> c (1x1 conv 4->8): 3 x 3 = 9 windows, 1 APU row."""
    b = NetworkBuilder("odd", {"x": (4, 3, 3)})
    b.conv("c", "x", 4, 8, 1)
    return b.build()


@pytest.mark.parametrize("length,good", [(480, True), (384, False), (432, False)])
def test_r5_replicated_compute_rounds_the_windows_up(length, good):
    # 9 windows on 2 copies: ceil(9/2) = 5 windows each, 5 x 96 = 480 cycles (not floor
    # 4 x 96 = 384, not 9 x 96 / 2 = 432).
    hw = HW4
    s = sched(hw, [step("c", T, T + length, (0,), (1,), rep=2, windows=9)],
              [("c", 0, 0, 0), ("c", 0, 1, 0)])
    if good:
        ok(odd_network(), hw, s)
    else:
        broken(odd_network(), hw, s, "R5", f"lasts {length} cycles", "needs 480")


def test_r5_windows_must_be_the_mapping_s():
    hw = tiny_hardware()
    s = two_layers(hw)
    s.steps[1].windows = 15
    broken(tiny_network(), hw, s, "R5", "windows 15", "gives 16")


def matmul_network() -> Network:
    """x (4 tokens, 8) -> q, k (linear 8->8) -> m = q k^T: 4 x 4 x 8 = 128 MACs."""
    b = NetworkBuilder("mm", {"x": (4, 8)})
    b.linear("q", "x", 8, 8)
    b.linear("k", "x", 8, 8)
    b.add("m", "matmul", ["q", "k"], transpose_b=True)
    return b.build()


@pytest.mark.parametrize("length,good", [(3, True), (2, False), (4, False)])
def test_r5_weightless_matmul_takes_ceil_macs_over_the_digital_rate(length, good):
    # 128 MACs at 48 per cycle: ceil(128 / 48) = ceil(2.67) = 3 cycles. q and k have 4 windows
    # (tokens) each: 4 x 96 = 384 cycles.
    hw = tiny_hardware(apu_rows_per_pe=4, digital_macs_per_cycle=48)
    s = sched(hw, [step("q", T, T + 384, (0,), (1,), windows=4),
                   step("k", T + 384, T + 768, (0,), (2,), windows=4),
                   step("m", T + 768, T + 768 + length, (1, 2), (0,), rep=0, rows=0,
                        windows=0)],
              [("q", 0, 0, 0), ("k", 0, 1, 0)])
    if good:
        ok(matmul_network(), hw, s)
    else:
        broken(matmul_network(), hw, s, "R5", f"lasts {length} cycles", "needs 3")


# ----- R6: APUs written at once <= floor(bandwidth x T / bytes per APU write) -----

# 8 APUs at once: 8 x 4096 bytes in T = 1000 cycles = 1e-6 s is 32.768e9 B/s, i.e. two rows
# of 4 APUs. One byte less per write time: floor(32767 / 4096) = floor(7.99976) = 7 APUs,
# one row.
BW8 = 8 * 4096 / 1e-6
BW7 = (8 * 4096 - 1) / 1e-6


def _bandwidth(bw: float, third_write: int) -> Schedule:
    # c1 on row 0 and c2's first copy on row 1, both written at 0 (8 APUs); c2's second copy on
    # row 2 written at ``third_write``. c2 (r = 2, 768 cycles) computes [2536, 3304).
    hw = tiny_hardware(apu_rows_per_pe=4, memory_bandwidth_bytes_s=bw)
    return sched(hw, [step("c1", T, 2536, (0,), (1,)),
                      step("c2", 2536, 2536 + 768, (1,), (2,), rep=2)],
                 [("c1", 0, 0, 0), ("c2", 0, 1, 0), ("c2", 0, 2, third_write)])


def test_r6_two_rows_at_once_is_exactly_the_limit():
    hw = tiny_hardware(apu_rows_per_pe=4, memory_bandwidth_bytes_s=BW8)
    assert hw.max_concurrent_apu_writes == 8
    # The third write starts when the first two end (half-open): at most 8 APUs at any time.
    ok(tiny_network(), hw, _bandwidth(BW8, 1000))


def test_r6_third_row_one_cycle_early():
    hw = tiny_hardware(apu_rows_per_pe=4, memory_bandwidth_bytes_s=BW8)
    # Over [999, 1000) three rows of 4 APUs, 12 > 8.
    broken(tiny_network(), hw, _bandwidth(BW8, 999), "R6", "over [999, 1000) 12 APUs",
           "allows 8")


def test_r6_one_apu_under_the_limit():
    hw = tiny_hardware(apu_rows_per_pe=4, memory_bandwidth_bytes_s=BW7)
    assert hw.max_concurrent_apu_writes == 7  # one row of 4 APUs at a time
    broken(tiny_network(), hw, _bandwidth(BW7, 1000), "R6", "over [0, 1000) 8 APUs",
           "allows 7")


# ----- R7: 0 <= pe < pes, 0 <= row < apu_rows_per_pe, times >= 0 -----

HW22 = tiny_hardware(pes=2)  # 2 PEs x 2 rows


@pytest.mark.parametrize("pe,row,good", [(1, 1, True), (1, 0, True), (2, 0, False),
                                         (0, 2, False), (-1, 0, False), (0, -1, False)])
def test_r7_pe_and_row_ranges(pe, row, good):
    # c1 on (pe 0, row 0); c2 on (pe, row): the last valid one is (1, 1).
    s = sched(HW22, [step("c1", T, 2536, (0,), (1,)), step("c2", 2536, 4072, (1,), (2,))],
              [("c1", 0, 0, 0), ("c2", pe, row, 0)])
    if good:
        ok(tiny_network(), HW22, s)
    else:
        broken(tiny_network(), HW22, s, "R7", f"(pe {pe}, row {row}) outside 2 PEs x 2 rows")


def test_r7_write_at_cycle_minus_one():
    hw = tiny_hardware()
    s = two_layers(hw)
    s.writes.start[1] = -1  # ends at 999, before c2's compute: only R7 breaks
    broken(tiny_network(), hw, s, "R7", "c2/0: start -1 < 0")


def pool_first_network() -> Network:
    """x (4, 4, 4) -> p (pool 1x1, 0 cycles) -> c1 (1x1 conv 4->8)."""
    b = NetworkBuilder("pf", {"x": (4, 4, 4)})
    b.pool("p", "x")
    b.conv("c1", "p", 4, 8, 1)
    return b.build()


def pool_first(hw: Hardware, t: int) -> Schedule:
    # p takes 0 cycles at [t, t); c1 written at 0 and computed [1000, 2536).
    return sched(hw, [step("p", t, t, (0,), (1,), rep=0, rows=0, windows=0),
                      step("c1", T, T + C1, (1,), (2,))], [("c1", 0, 0, 0)])


def test_r7_step_at_cycle_zero_and_minus_one():
    net, hw = pool_first_network(), tiny_hardware()
    ok(net, hw, pool_first(hw, 0))
    broken(net, hw, pool_first(hw, -1), "R7", "p/0: negative time [-1, -1)")


# ----- R8: disjoint banks whose capacities cover the bytes -----

def _banked(sizes: tuple[int, ...], c1_in: tuple[int, ...] = (0,), c1_out: tuple[int, ...] = (1,),
            c2_in: tuple[int, ...] = (1,), c2_out: tuple[int, ...] = (2,)) -> tuple[Hardware,
                                                                                  Schedule]:
    hw = tiny_hardware(gbuffer_banks=sizes)
    s = sched(hw, [step("c1", T, 2536, c1_in, c1_out), step("c2", 2536, 4072, c2_in, c2_out)],
              [("c1", 0, 0, 0), ("c2", 0, 1, 0)])
    return hw, s


def test_r8_banks_exactly_the_bytes():
    # c1 reads x (64 B) from a 64-byte bank and writes 128 B to a 128-byte bank; c2 reads those
    # 128 B and writes 128 B to another 128-byte bank.
    ok(tiny_network(), *_banked((64, 128, 128)))


@pytest.mark.parametrize("sizes,needles", [
    ((63, 128, 128), ("c1/0: input banks hold 63 bytes", "needs 64")),
    ((64, 127, 128), ("c1/0: output banks hold 127 bytes", "needs 128")),
    ((64, 128, 127), ("c2/0: output banks hold 127 bytes", "needs 128")),
])
def test_r8_one_byte_short(sizes, needles):
    broken(tiny_network(), *_banked(sizes), "R8", *needles)


def test_r8_two_banks_together_exactly_the_bytes():
    # x (64 B) on banks 0 and 1: 32 + 32 = 64 is enough, 32 + 31 = 63 is not.
    ok(tiny_network(), *_banked((32, 32, 128, 128), c1_in=(0, 1), c1_out=(2,), c2_in=(2,),
                                c2_out=(3,)))
    broken(tiny_network(), *_banked((32, 31, 128, 128), c1_in=(0, 1), c1_out=(2,),
                                    c2_in=(2,), c2_out=(3,)),
           "R8", "c1/0: input banks hold 63 bytes", "needs 64")


def test_r8_a_bank_listed_twice_counts_once():
    # banks_in (0, 0) on a 64-byte bank: listed twice, and 64 bytes, not 128, hold c1's input.
    msgs = broken(tiny_network(), *_banked((64, 128, 128), c1_in=(0, 0)), "R8",
                  "c1/0: a bank is listed twice")
    assert not any("input banks hold" in m for m in msgs)
    broken(tiny_network(), *_banked((32, 128, 128), c1_in=(0, 0)), "R8",
           "c1/0: input banks hold 32 bytes")


def test_r8_input_and_output_share_a_bank():
    broken(tiny_network(), *_banked((1024, 1024, 1024), c2_in=(1, 2)), "R8",
           "c2/0: banks [2] hold both input and output")


@pytest.mark.parametrize("bank,good", [(2, True), (3, False), (-1, False)])
def test_r8_bank_index_range(bank, good):
    hw, s = _banked((1024, 1024, 1024), c2_out=(bank,))
    if good:
        ok(tiny_network(), hw, s)
    else:
        broken(tiny_network(), hw, s, "R8", f"bank index {bank} outside 0..2")


def test_r8_multi_pass_steps_need_the_bytes_of_one_pass():
    # Banks (64, 64, 32) hold 160 bytes. c1 moves 64 + 128 = 192 > 160 bytes, so it takes
    # k = 2 passes (ceil(192 / 160) = 2; 32 B in and 64 B out fit disjoint banks); c2 moves
    # 128 + 128 = 256, ceil(256 / 160) = 2 passes of 64 + 64. Per pass c1 reads 32 bytes: the
    # 32-byte bank holds them, a 31-byte one does not.
    net = tiny_network()
    p = map_network(net, tiny_hardware(gbuffer_banks=(64, 64, 32)))
    assert [(s.passes, s.in_need, s.out_need) for s in p.steps] == [(2, 32, 64), (2, 64, 64)]
    ok(net, *_banked((64, 64, 32), c1_in=(2,), c1_out=(0,), c2_in=(0,), c2_out=(1,)))
    broken(net, *_banked((64, 64, 31), c1_in=(2,), c1_out=(0,), c2_in=(0,), c2_out=(1,)),
           "R8", "c1/0: input banks hold 31 bytes", "needs 32 per pass (2 passes)")


# ----- the file's makespan -----

@pytest.mark.parametrize("claimed", [4071, 4073])
def test_makespan_field_one_cycle_off(claimed):
    hw = tiny_hardware()
    s = two_layers(hw)
    assert s.makespan == 4072  # c2 ends at 2536 + 1536
    ok(tiny_network(), hw, s)
    s.makespan = claimed
    (v,) = validate(map_network(tiny_network(), hw), s)
    assert v.rule == "makespan" and f"says {claimed}" in v.message and "4072" in v.message
