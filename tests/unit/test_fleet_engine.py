"""A batch removes a killed run's containers by the labels the candidate layer puts on them; it
restates them (it does not import the runs' code), and this keeps the two the same."""

from __future__ import annotations

import os

from conformance.candidate import labels
from conformance.fleet import engine


def test_the_batch_finds_a_run_s_containers_by_the_run_s_own_labels():
    assert engine.LABEL == labels.LABEL and engine.LABEL_OWNER == labels.LABEL_OWNER
    assert labels.LABEL_ROLE == f"{engine.LABEL}.role"
    assert engine.run_owner(4242) == labels.owner_id(4242)
    assert engine.run_owner(os.getpid()) == labels.owner_id()


def test_an_engine_that_does_not_answer_costs_a_batch_nothing(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(engine, "TIMEOUT_S", 2.0)
    nowhere = engine.Engine()
    assert nowhere.image_id("a:1") == "" and nowhere.remove_leftovers(1) == 0
    nowhere.close()
