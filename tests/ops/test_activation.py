"""Activation functions against torch.nn.functional: values, gradients, double backward."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
import ml_dtypes
import numpy as np
import pytest

import ember
from ember.autograd import gradgradcheck
from helpers import check_op, check_gradcheck, torch

F = torch.nn.functional
# PyTorch prints no NumPy warnings: none may escape, except the kernels' own (filtered by ember)
pytestmark = [pytest.mark.filterwarnings("error::RuntimeWarning"),
              pytest.mark.filterwarnings(r"ignore::RuntimeWarning:ember\.kernels\.")]

# name: kwarg sets; each is checked forward and backward against torch.nn.functional
ACTS = {
    "relu": [{}], "relu6": [{}], "leaky_relu": [{}, {"negative_slope": 0.2}],
    "elu": [{}, {"alpha": 0.5}], "selu": [{}], "celu": [{}, {"alpha": 2.0}],
    "gelu": [{}, {"approximate": "tanh"}], "silu": [{}], "softplus": [{}, {"beta": 2.0, "threshold": 1.0}],
    "mish": [{}], "hardtanh": [{}, {"min_val": -0.5, "max_val": 2.0}], "hardsigmoid": [{}],
    "hardswish": [{}], "hardshrink": [{}, {"lambd": 1.0}], "softshrink": [{}, {"lambd": 1.0}],
    "tanhshrink": [{}], "softsign": [{}], "logsigmoid": [{}], "threshold": [{"threshold": 0.5, "value": -1.0}],
}
CASES = [(name, kw) for name, kws in ACTS.items() for kw in kws]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CASES]
FUSED = {"gelu": [{}, {"approximate": "tanh"}], "silu": [{}], "softplus": [{}, {"beta": 2.0, "threshold": 1.0}],
         "mish": [{}], "elu": [{}, {"alpha": 0.5}], "selu": [{}], "celu": [{"alpha": 2.0}]}
SPECIALS = np.array([-np.inf, -30.0, -3.0, -1.0, -0.0, 0.0, 1.0, 3.0, 30.0, np.inf, np.nan], np.float32)


def fns(name, **kw):
    return (lambda x: getattr(ember, name)(x, **kw)), (lambda x: getattr(F, name)(x, **kw))


def kink_free(shape, seed=0, low=-4.0, high=4.0):
    """Random values kept off the kinks of piecewise activations (0, +-0.5, +-1, +-3, 6 ...)."""
    x = np.random.default_rng(seed).uniform(low, high, shape)
    kinks = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, 3.0, -3.0, 6.0])
    near = np.abs(x[..., None] - kinks).min(-1) < 0.05
    return np.where(near, x + 0.1, x)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
@pytest.mark.parametrize("case", ["2d", "4d", "0d", "empty", "noncontig"])
def test_activation(name, kw, case):
    if case == "noncontig":
        a = np.ascontiguousarray(kink_free((3, 4)).astype(np.float32)).T
    else:
        a = kink_free({"2d": (3, 4), "4d": (2, 3, 2, 2), "0d": (), "empty": (0, 3)}[case]).astype(np.float32)
    check_op(None, *fns(name, **kw), inputs=[a])


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_activation_gradcheck(name, kw):
    check_gradcheck(None, lambda x: getattr(ember, name)(x, **kw), inputs=[kink_free((6,), seed=1)])


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_activation_special_values(name, kw):
    check_op(None, *fns(name, **kw), inputs=[SPECIALS.astype(np.float64)], grad=False)
    if name != "gelu" or kw:  # torch's float32 gelu(inf) is nan (a vectorization artefact); ours inf
        check_op(None, *fns(name, **kw), inputs=[SPECIALS], grad=False)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_activation_dtypes(name, kw):
    a = kink_free((3, 4))
    check_op(None, *fns(name, **kw), inputs=[a])                               # float64
    check_op(None, *fns(name, **kw), inputs=[a.astype(np.float16)], rtol=2e-2, atol=2e-3)
    e = ember.tensor(a.astype(np.float32).astype(ml_dtypes.bfloat16))
    t = torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
    r, rt = getattr(ember, name)(e, **kw), getattr(F, name)(t, **kw)
    assert r.dtype is ember.bfloat16
    np.testing.assert_allclose(r.float().numpy(), rt.float().numpy(), rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "threshold"])
def test_activation_int(name):
    kw = {"threshold": 1, "value": 7} if name == "threshold" else {}
    check_op(None, *fns(name, **kw), inputs=[np.array([[-3, 0, 2], [5, -1, 7]], np.int64)], grad=False)


@pytest.mark.parametrize("name", list(FUSED))
def test_fused_backward_double_backward(name):
    """The dedicated backward ops are differentiable: second derivatives match torch and
    finite differences of the first."""
    for kw in FUSED[name]:
        def second(lib, fn):
            def f(x):
                y = fn(x, **kw)
                g = (x * 0 + 1.5) if lib is ember else torch.full_like(x, 1.5)
                (gx,) = lib.autograd.grad(y, x, g, create_graph=True)
                return gx
            return f
        check_op([(3, 4)], second(ember, getattr(ember, name)), second(torch, getattr(F, name)), low=-3, high=3,
                 dtype=np.float64)
        x = ember.tensor(kink_free((5,), seed=2, low=-3, high=3), requires_grad=True)
        assert gradgradcheck(lambda t: getattr(ember, name)(t, **kw), [x])
    assert f"{'elu' if name in ('selu', 'celu') else name}_backward" in ember.ops.registry.OPS


def test_fused_backward_ops_direct():
    """The backward ops as ops: values against torch's aten ops, gradients w.r.t. g and x
    against torch where it has them, and against finite differences."""
    aten = torch.ops.aten
    cases = [("gelu_backward", {"approximate": "none"}, lambda g, x: aten.gelu_backward(g, x), True),
             ("gelu_backward", {"approximate": "tanh"}, lambda g, x: aten.gelu_backward(g, x, approximate="tanh"),
              True),
             ("silu_backward", {}, lambda g, x: aten.silu_backward(g, x), False),
             ("mish_backward", {}, lambda g, x: aten.mish_backward(g, x), False),
             ("softplus_backward", {"beta": 2.0, "threshold": 3.0},
              lambda g, x: aten.softplus_backward(g, x, 2.0, 3.0), True),
             ("elu_backward", {"alpha": 0.7, "scale": 1.5, "input_scale": 0.5},
              lambda g, x: aten.elu_backward(g, 0.7, 1.5, 0.5, False, x), True)]
    for name, attrs, tfn, torch_grad in cases:
        op = ember.ops.registry.OPS[name]
        fn = lambda g, x: ember.ops.registry.apply(op, g, x, **attrs)  # noqa: E731
        check_op([(3, 4), (3, 4)], fn, tfn, dtype=np.float64, low=-3, high=3, grad=torch_grad)
        check_gradcheck(None, fn, inputs=[np.linspace(-1, 1, 6), kink_free((6,), seed=4, low=-3, high=3)])


@pytest.mark.parametrize("name", ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "silu", "mish",
                                  "hardtanh", "hardsigmoid", "hardswish", "threshold"])
def test_inplace_flag(name):
    kw = {"threshold": 0.5, "value": -1.0} if name == "threshold" else {}

    def run(lib, mod):
        def f(x):
            y = x * 1
            out = getattr(mod, name)(y, inplace=True, **kw)
            assert out is y
            return y
        return f
    a = kink_free((3, 4)).astype(np.float32)
    grad = name in ("relu", "relu6", "hardtanh", "leaky_relu", "threshold", "elu", "selu", "celu")  # torch's
    check_op(None, run(ember, ember), run(torch, F), inputs=[a], grad=grad)


@pytest.mark.parametrize("name", ["relu_", "elu_", "leaky_relu_", "hardtanh_", "threshold_", "celu_", "selu_"])
def test_inplace_functions(name):
    args = (0.5, -1.0) if name == "threshold_" else ()
    a = kink_free((3, 4)).astype(np.float32)
    check_op(None, lambda x: getattr(ember, name)(x * 1, *args), lambda x: getattr(F, name)(x * 1, *args),
             inputs=[a])


def test_methods():
    a = kink_free((3, 4)).astype(np.float32)
    check_op(None, lambda x: x.relu(), inputs=[a])
    check_op(None, lambda x: (x * 1).relu_(), inputs=[a])
    check_op(None, lambda x: x.hardshrink(0.7), inputs=[a])
    check_op(None, lambda x: x.sigmoid() + x.tanh(), inputs=[a])
    check_op(None, lambda x: (ember if isinstance(x, ember.Tensor) else torch).relu(x), inputs=[a])
    for n in ("selu", "celu", "threshold", "hardshrink", "prelu"):
        assert n in ember.ops.registry.FUNCTIONS


@pytest.mark.parametrize("shapes", [[(2, 3, 4), (3,)], [(2, 3, 2, 2), (1,)], [(2, 3), (3,)], [(5,), (1,)],
                                    [(), (1,)], [(2, 3, 4), ()], [(0, 3), (3,)]])
def test_prelu(shapes):
    x = kink_free(shapes[0]).astype(np.float32)
    w = np.random.default_rng(3).uniform(0.1, 0.5, shapes[1]).astype(np.float32)
    check_op(None, lambda a, b: ember.prelu(a, b), lambda a, b: F.prelu(a, b), inputs=[x, w])
    check_op(None, lambda a, b: a.prelu(b), inputs=[x, w])
    if x.size:
        check_gradcheck(None, ember.prelu, inputs=[x.astype(np.float64), w.astype(np.float64)])


def test_prelu_error():
    with pytest.raises(RuntimeError, match="ember.prelu"):
        ember.prelu(ember.ones(2, 3), ember.ones(4))


@pytest.mark.parametrize("shape,dim", [((4, 6), -1), ((4, 6), 0), ((2, 4, 3), 1), ((2, 3, 4), -1), ((0, 4), 1)])
def test_glu(shape, dim):
    check_op([shape], lambda x: ember.glu(x, dim), lambda x: F.glu(x, dim))
    if 0 not in shape:
        check_gradcheck([shape], lambda x: ember.glu(x, dim))


def test_errors():
    with pytest.raises(RuntimeError, match="ember.glu"):
        ember.glu(ember.ones(3, 5))
    with pytest.raises(IndexError, match="ember.glu"):
        ember.glu(ember.ones(3, 4), 2)
    with pytest.raises(ValueError, match="ember.gelu"):
        ember.gelu(ember.ones(3), approximate="fast")
    with pytest.raises(ValueError, match="ember.hardtanh"):
        ember.hardtanh(ember.ones(3), 2.0, 1.0)
    with pytest.raises(RuntimeError, match="ember.relu_"):
        ember.relu(ember.ones(3, requires_grad=True), inplace=True)


def test_keyword_arguments():
    a = kink_free((2, 4, 3)).astype(np.float32)
    w = np.array([0.2, 0.3, 0.1, 0.4], np.float32)
    check_op(None, lambda x: ember.gelu(input=x, approximate="tanh"), lambda x: F.gelu(input=x, approximate="tanh"),
             inputs=[a])
    check_op(None, lambda x: ember.softplus(input=x, beta=2.0, threshold=3.0),
             lambda x: F.softplus(input=x, beta=2.0, threshold=3.0), inputs=[a])
    check_op(None, lambda x: ember.glu(input=x, dim=1), lambda x: F.glu(input=x, dim=1), inputs=[a])
    check_op(None, lambda x, y: ember.prelu(input=x, weight=y), lambda x, y: F.prelu(input=x, weight=y),
             inputs=[a, w])
    check_op(None, lambda x: ember.hardtanh(x, min_val=-0.5, max_val=0.5),
             lambda x: F.hardtanh(x, min_val=-0.5, max_val=0.5), inputs=[a])
    check_op(None, lambda x: ember.leaky_relu(x, negative_slope=0.3), lambda x: F.leaky_relu(x, negative_slope=0.3),
             inputs=[a])
    check_op(None, lambda x: ember.threshold(x, threshold=0.1, value=2.0), lambda x: F.threshold(x, 0.1, 2.0),
             inputs=[a])


def _specials_grid(n, seed):
    """(g, x) of n elements: random values with inf, nan and +-0 in both. x is nan only at 0,
    where torch's kernels take their vectorized path (its scalar tail differs for hardtanh)."""
    rs = np.random.default_rng(seed)
    g, x = rs.standard_normal(n).astype(np.float32), kink_free((n,), seed=seed).astype(np.float32)
    g[:len(SPECIALS)], x[-len(SPECIALS) + 1:] = SPECIALS, SPECIALS[:-1]
    x[:len(SPECIALS)] = SPECIALS[::-1]
    return g, x


@pytest.mark.parametrize("name,attrs,tfn", [
    ("relu_backward", {}, lambda g, x: torch.ops.aten.threshold_backward(g, x, 0)),
    ("threshold_backward", {"threshold": 0.5}, lambda g, x: torch.ops.aten.threshold_backward(g, x, 0.5)),
    ("hardtanh_backward", {"min_val": -1.0, "max_val": 2.0},
     lambda g, x: torch.ops.aten.hardtanh_backward(g, x, -1.0, 2.0)),
    ("leaky_relu_backward", {"negative_slope": 0.2},
     lambda g, x: torch.ops.aten.leaky_relu_backward(g, x, 0.2, False))])
def test_masked_backward_ops(name, attrs, tfn):
    """The piecewise-linear backward ops: bit-identical to torch's aten ops (nan, inf, -0 and
    large arrays included), linear in g with a zero grad for x, double-differentiable."""
    op = ember.ops.registry.OPS[name]
    fn = lambda g, x: ember.ops.registry.apply(op, g, x, **attrs)  # noqa: E731
    for n in (40, 10007):  # the select kernels run past a few thousand elements
        for dt in (np.float32, np.float64, np.float16):
            g, x = (a.astype(dt) for a in _specials_grid(n, n))
            r = fn(ember.tensor(g), ember.tensor(x)).numpy()
            t = tfn(torch.from_numpy(g), torch.from_numpy(x)).numpy()
            assert r.dtype == t.dtype and np.array_equal(r.view(np.uint8), t.view(np.uint8)), (n, dt)
    check_op(None, fn, tfn, inputs=[np.array(1.5, np.float32), np.array(-0.5, np.float32)])
    check_op(None, fn, tfn, inputs=list(_specials_grid(40, 3)))
    check_op(None, fn, tfn, inputs=[np.zeros((0, 3), np.float32)] * 2)
    g, x = np.linspace(-1, 1, 6), kink_free((6,), seed=4)
    check_gradcheck(None, fn, inputs=[g, x])
    assert gradgradcheck(fn, [ember.tensor(g, requires_grad=True), ember.tensor(x, requires_grad=True)])


@pytest.mark.parametrize("name,kw", [("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}),
                                     ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
                                     ("threshold", {"threshold": 0.5, "value": -1.0})])
def test_piecewise_large_double_backward(name, kw):
    """Large inputs (the branch-free kernels), and second derivatives (zero) against torch."""
    check_op(None, *fns(name, **kw), inputs=[kink_free((64, 80), seed=5).astype(np.float32)])

    def second(lib):
        def f(x):
            y = getattr(lib if lib is ember else F, name)(x, **kw)
            (gx,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
            return gx
        return f
    check_op(None, second(ember), second(torch), inputs=[kink_free((3, 4), seed=6)])


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_activation_large_with_specials(name, kw):
    """Past a few thousand elements the selects run branch-free on integer views: same values
    (inf, nan, -0 included) and grads as torch."""
    a = kink_free((64, 80), seed=8).astype(np.float32)
    check_op(None, *fns(name, **kw), inputs=[a])
    flat = a.reshape(-1)
    flat[::97] = np.resize(SPECIALS, flat[::97].size)
    if name != "gelu" or kw:  # torch's float32 gelu(inf) is nan (see test_activation_special_values)
        check_op(None, *fns(name, **kw), inputs=[a], grad=False)
    if name == "relu":
        w = np.random.default_rng(3).uniform(0.1, 0.5, (64,)).astype(np.float32)
        check_op(None, ember.prelu, F.prelu, inputs=[a.reshape(4, 64, 20), w], grad=False)
