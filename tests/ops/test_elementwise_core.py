import numpy as np
import pytest

import ember
from helpers import check_op, check_gradcheck, torch


@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 4), (3, 1)], [(), (3,)],
                                    [(0, 3), (3,)]])
@pytest.mark.parametrize("fn", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
                                lambda a, b: a / b, lambda a, b: a.add(b, alpha=2),
                                lambda a, b: a.sub(b, alpha=0.5)])
def test_binary_arith(shapes, fn):
    check_op(shapes, fn, low=0.5, high=2.0)


def test_pow():
    check_op([(3, 4), (3, 4)], lambda a, b: a ** b, low=0.5, high=2.0)
    check_op([(3, 4)], lambda a: a ** 3)
    check_op([(3, 4)], lambda a: 2 ** a)


def test_scalar_ops():
    check_op([(5,)], lambda a: 2.5 * a - 1 + (3 / (a + 5)) - (1 - a))


def test_noncontiguous():
    check_op([(4, 3), (4, 3)], lambda a, b: a * b, noncontig=True)


def test_gradcheck_arith():
    check_gradcheck([(3,), (3,)], lambda a, b: a * b / (b + 3) - a ** 2, low=0.5)


def test_comparisons():
    for f in (lambda a, b: a < b, lambda a, b: a >= b, lambda a, b: a == b, lambda a, b: a != b):
        check_op([(3, 4), (4,)], f, grad=False)
