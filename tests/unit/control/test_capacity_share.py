"""--max-capacity is the whole run's, measured across its workers: each worker's share follows
what the others were measured to consume (their published write units per second) and whether
they are held back by their share. Hand-written figures in, a share out (no clock, no store)."""

import pytest

from backfill.control.share import Peer, capacity_share


def test_workers_all_held_share_the_limit_equally():
    # given a limit of 12 units/s and two other workers using their whole share
    peers = [Peer(units_per_s=4.0, held=True), Peer(units_per_s=4.0, held=True)]
    # then this worker's share is a third
    assert capacity_share(12.0, peers) == pytest.approx(4.0)


def test_a_worker_alone_gets_the_whole_limit():
    # (its peers have finished or not started: they publish nothing that counts)
    assert capacity_share(12.0, []) == pytest.approx(12.0)


def test_what_a_slow_worker_leaves_unused_goes_to_the_others():
    # given one worker bound by its own CPU at 1 unit/s (not held) and one held by its share
    peers = [Peer(units_per_s=1.0, held=False), Peer(units_per_s=5.5, held=True)]
    # then this worker and the held one split the 11 units the slow one leaves
    assert capacity_share(12.0, peers) == pytest.approx(5.5)


def test_peers_using_more_than_the_limit_leave_a_floor_not_nothing():
    # given (for a moment) unheld peers measured above the whole limit
    peers = [Peer(units_per_s=10.0, held=False), Peer(units_per_s=10.0, held=False)]
    # then this worker still writes, at a small floor, until the next measurement
    assert capacity_share(12.0, peers) == pytest.approx(12.0 * 0.05)


def test_the_published_figures_of_a_run_become_peers(tmp_path):
    from backfill.control.share import peers_of
    from backfill.control.worker import WorkerState
    from backfill.run.store import open_store

    # given a run store with four workers' files of run r: this one, one running and held, one
    # running and not held, one done; and workers of other runs (r-segment's name starts with r-seg)
    store = open_store(str(tmp_path))
    for name, state, capacity in [("r-seg0of4", "running", {"units_per_s": 3.0, "held": True}),
                                  ("r-seg1of4", "running", {"units_per_s": 2.0, "held": True}),
                                  ("r-seg2of4", "paused", {"units_per_s": 0.5, "held": False}),
                                  ("r-seg3of4", "done", {"units_per_s": 9.0, "held": True}),
                                  ("other-seg1of4", "running", {"units_per_s": 9.0, "held": True}),
                                  ("r-segment-seg1of4", "running", {"units_per_s": 7.0, "held": True})]:
        WorkerState(store, name).save(state, live={"capacity": capacity})
    # when worker 0 reads its peers
    peers = peers_of(store, "r", "r-seg0of4")
    # then it sees the other two that are writing or paused, with their figures
    assert sorted(peers) == [Peer(0.5, False), Peer(2.0, True)]


def test_a_joining_worker_starts_with_what_the_others_leave_unused():
    from backfill.control.share import spare_capacity

    # given two workers using 10 of 12 units/s, then two using all of it
    assert spare_capacity(12.0, [Peer(6.0, True), Peer(4.0, False)]) == pytest.approx(2.0)
    # then a joiner takes the 2 left, or the floor until they make room; alone, the whole limit
    assert spare_capacity(12.0, [Peer(6.0, True), Peer(6.0, True)]) == pytest.approx(0.6)
    assert spare_capacity(12.0, []) == pytest.approx(12.0)
