"""devenv.processes.free_ports: the ports of one stack (etcd client and peer, kube-apiserver; the
operator's health and metrics) are chosen together, so no two children of a stack get the same one."""

from __future__ import annotations

import socket

import pytest

from sagemaker_guardrails.devenv.processes import free_port, free_ports

pytestmark = pytest.mark.unit


def test_ports_chosen_together_are_different_and_free() -> None:
    for _ in range(50):
        ports = free_ports(3)
        assert len(set(ports)) == 3, ports
    with socket.socket() as first, socket.socket() as second:
        a, b = free_ports(2)
        first.bind(("127.0.0.1", a))
        second.bind(("127.0.0.1", b))


def test_one_free_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_port()))
