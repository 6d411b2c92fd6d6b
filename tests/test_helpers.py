import pytest

from tests.helpers import auc, free_port


def test_auc_perfect_random_and_inverted() -> None:
    assert auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]) == 0.5
    assert auc([0.1, 0.6, 0.4, 0.9], [0, 0, 1, 1]) == pytest.approx(0.75)


def test_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both classes"):
        auc([0.1, 0.2], [1, 1])


def test_free_port_can_be_bound_at_once() -> None:
    import socket

    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))  # nothing holds it
