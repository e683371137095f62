"""The benchmark's own arithmetic: what it concludes from measured CPU, without a run."""

from __future__ import annotations

import dataclasses

import pytest

from bench.cpu import CpuSplit
from bench.machine import Facts
from bench.results import Report, Row, markdown
from bench.targets import scale_out_bound
from bench.wrk import WrkResult, merged


def _run(requests: int, *, server: float, postgres: float, wrk: float, busy: float) -> WrkResult:
    # A 10-second run on 2 cores: 20 CPU-seconds of capacity.
    return WrkResult(
        requests=requests,
        duration_s=10.0,
        p50_ms=10.0,
        p90_ms=15.0,
        p99_ms=25.0,
        max_ms=40.0,
        socket_errors=0,
        non2xx=0,
        exhausted=False,
        sample="",
        cpu=CpuSplit(
            server=server, postgres=postgres, wrk=wrk, machine_busy=busy, machine_total=20.0
        ),
    )


def _report(one: WrkResult, two: WrkResult) -> Report:
    facts = Facts("abc1234", False, 2, "cpu", 24.0, "6", "3.11", "15", "3.40", "wrk", {})
    report = Report(facts=facts, options="")
    report.rows = [
        Row("PostgreSQL:booking", "Booking", "PostgreSQL", 1, one, [one]),
        Row("PostgreSQL:scaleout", "Booking, 2 processes", "PostgreSQL", 2, two, [two]),
    ]
    return report


def test_the_scale_out_bound_is_what_every_core_gives_at_the_two_process_cost():
    # One process: 30,000 requests with its server on 9.3 of 10 seconds, machine 85% busy.
    one = _run(30_000, server=9.3, postgres=5.7, wrk=0.8, busy=17.0)
    # Two processes: 29,000 requests with the machine 99% busy (19.8 of 20 CPU-seconds).
    two = _run(29_000, server=10.4, postgres=7.2, wrk=0.9, busy=19.8)
    lines = scale_out_bound(_report(one, two))
    assert lines[0] == (
        "1 process: 3,000/s; its server process used 0.93 of a core and the machine was "
        "85% busy, 0.57 ms of CPU per request in all"
    )
    assert (
        lines[1]
        == "2 processes: 2,900/s; the machine was 99% busy, 0.68 ms of CPU per request in all"
    )
    # 2,900/s at 99% busy: at most 2,929/s with both cores busy, 0.98× of 3,000/s.
    assert lines[2].endswith("serves at most 2,929/s: 0.98× the 1-process figure")


def test_results_explain_the_scale_out_only_when_both_runs_measured_cpu():
    one = _run(30_000, server=9.3, postgres=5.7, wrk=0.8, busy=17.0)
    without_cpu = dataclasses.replace(one, cpu=None)
    report = _report(one, without_cpu)
    assert scale_out_bound(report) == []
    assert "What bounds the 2-process figure" not in markdown(report)
    report = _report(one, one)
    report.scale_out = scale_out_bound(report)
    assert "## What bounds the 2-process figure here" in markdown(report)


def _slice(requests: int, *, p99: float, cpu: CpuSplit | None) -> WrkResult:
    return dataclasses.replace(
        _run(requests, server=0, postgres=0, wrk=0, busy=0), duration_s=2.0, p99_ms=p99, cpu=cpu
    )


def test_a_run_cut_into_slices_adds_up_to_one_run_of_their_requests_time_and_cpu():
    first = dataclasses.replace(
        _slice(2000, p99=10.0, cpu=CpuSplit(1.0, 0.5, 0.2, 3.0, 4.0)), max_ms=30.0, non2xx=1
    )
    second = dataclasses.replace(
        _slice(6000, p99=20.0, cpu=CpuSplit(2.0, 1.0, 0.4, 3.5, 4.0)), max_ms=25.0, exhausted=True
    )

    run = merged([first, second])

    assert run.requests == 8000
    assert run.duration_s == 4.0
    assert run.rps == 2000
    # Weighted by requests: three quarters of them came from the second slice.
    assert run.p99_ms == 17.5
    assert run.max_ms == 30.0
    assert run.errors == 1
    assert run.exhausted
    assert run.cpu == CpuSplit(
        server=3.0, postgres=1.5, wrk=pytest.approx(0.6), machine_busy=6.5, machine_total=8.0
    )


def test_a_run_of_slices_has_no_cpu_figure_when_a_slice_measured_none():
    measured = _slice(2000, p99=10.0, cpu=CpuSplit(1.0, 0.5, 0.2, 3.0, 4.0))

    assert merged([measured, _slice(2000, p99=10.0, cpu=None)]).cpu is None
