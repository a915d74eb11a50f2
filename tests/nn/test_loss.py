"""Losses (functional and modules) and distances vs torch; gradcheck / gradgradcheck of the
fused cross_entropy op."""
import numpy as np
import pytest

import ember
from ember import nn
import ember.nn.functional as F
from helpers import check_module, check_op, check_gradcheck, torch

TF = torch.nn.functional
F64 = np.float64
RED = ["none", "mean", "sum"]
pytestmark = [pytest.mark.filterwarnings("ignore:reduction. 'mean' divides"),  # torch's kl_div warning
              pytest.mark.filterwarnings("ignore:Using a target size"),
              pytest.mark.filterwarnings("ignore:size_average and reduce args")]


def _ints(shape, high, seed=0, ignore=None):
    t = np.random.default_rng(seed).integers(0, high, shape).astype(np.int64)
    if ignore is not None:
        t.reshape(-1)[::3] = ignore
    return t


def _rand(*shape, seed=0, low=-2.0, high=2.0, dtype=np.float32):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def _probs(*shape, seed=0, dtype=np.float32, axis=1):
    p = np.random.default_rng(seed).uniform(0.1, 1.0, shape)
    return (p / p.sum(axis=axis, keepdims=True)).astype(dtype)


def _both(fe, ft, inputs, dtype=np.float32, **kw):
    return check_op(None, fe, ft, inputs=inputs, dtype=dtype, **kw)


# --- cross_entropy --------------------------------------------------------------------------
CE_SHAPES = [((4, 5), (4,)), ((2, 3, 4), (2, 4)), ((2, 3, 2, 2), (2, 2, 2)), ((5,), ())]


@pytest.mark.parametrize("xs,ts", CE_SHAPES)
@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("opts", [{}, dict(weight=True), dict(ignore_index=1), dict(label_smoothing=0.2),
                                  dict(weight=True, label_smoothing=0.3, ignore_index=0)])
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_cross_entropy_indices(xs, ts, reduction, opts, dtype):
    c = xs[0] if len(xs) == 1 else xs[1]
    kw = dict(reduction=reduction, ignore_index=opts.get("ignore_index", -100),
              label_smoothing=opts.get("label_smoothing", 0.0))
    x, t, w = _rand(*xs, dtype=dtype), _ints(ts, c, seed=1), _rand(c, seed=2, low=0.2, high=2.0, dtype=dtype)
    if opts.get("weight"):  # torch has no gradient for the class weights
        _both(lambda x, t: F.cross_entropy(x, t, ember.tensor(w), **kw),
              lambda x, t: TF.cross_entropy(x, t, torch.tensor(w), **kw), [x, t], dtype)
    else:
        _both(lambda x, t: F.cross_entropy(x, t, **kw), lambda x, t: TF.cross_entropy(x, t, **kw), [x, t], dtype)


@pytest.mark.parametrize("xs", [(4, 5), (2, 3, 4), (5,)])
@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("opts", [{}, dict(weight=True), dict(label_smoothing=0.25),
                                  dict(weight=True, label_smoothing=0.1)])
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_cross_entropy_probabilities(xs, reduction, opts, dtype):
    c = xs[0] if len(xs) == 1 else xs[1]
    kw = dict(reduction=reduction, label_smoothing=opts.get("label_smoothing", 0.0))
    x, p = _rand(*xs, dtype=dtype), _probs(*xs, seed=1, dtype=dtype, axis=0 if len(xs) == 1 else 1)
    w = _rand(c, seed=2, low=0.2, high=2.0, dtype=dtype)
    if opts.get("weight"):  # gradients of the soft target too
        _both(lambda x, p: F.cross_entropy(x, p, ember.tensor(w), **kw),
              lambda x, p: TF.cross_entropy(x, p, torch.tensor(w), **kw), [x, p], dtype)
    else:
        _both(lambda x, p: F.cross_entropy(x, p, **kw), lambda x, p: TF.cross_entropy(x, p, **kw), [x, p], dtype)


def test_cross_entropy_module_and_weight_buffer():
    w = _rand(5, low=0.5, high=1.5)
    e = nn.CrossEntropyLoss(weight=ember.tensor(w), ignore_index=2, label_smoothing=0.1)
    t = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), ignore_index=2, label_smoothing=0.1)
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    check_module(e, t, None, inputs=[_rand(6, 5), _ints((6,), 5, seed=3)])
    check_module(nn.CrossEntropyLoss(reduction="sum"), torch.nn.CrossEntropyLoss(reduction="sum"), None,
                 inputs=[_rand(3, 4, 2), _ints((3, 2), 4)])
    assert list(nn.CrossEntropyLoss().state_dict()) == []


def test_cross_entropy_extremes():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]], np.float32)
    _both(lambda x, t: F.cross_entropy(x, t), lambda x, t: TF.cross_entropy(x, t), [x, np.array([1, 0])])
    x = np.array([[-np.inf, 1.0, 2.0]], np.float32)
    _both(lambda x, t: F.cross_entropy(x, t), lambda x, t: TF.cross_entropy(x, t), [x, np.array([2])])
    _both(lambda x, t: F.cross_entropy(x, t, reduction="sum"), lambda x, t: TF.cross_entropy(x, t, reduction="sum"),
          [_rand(0, 3), np.zeros(0, np.int64)])


@pytest.mark.parametrize("reduction", RED)
def test_cross_entropy_plain_path_edges(reduction):
    """The (N, C) fast path: rows far below the global max (row-max fallback), ignored rows,
    every row ignored, -inf logits, a wide batch."""
    kw = dict(reduction=reduction)
    x = _rand(6, 5)
    x[1] -= 60.0
    x[3, 2] = -np.inf
    _both(lambda x, t: F.cross_entropy(x, t, **kw), lambda x, t: TF.cross_entropy(x, t, **kw), [x, _ints((6,), 5)])
    t = _ints((6,), 5, ignore=-100)
    _both(lambda x, t: F.cross_entropy(x, t, **kw), lambda x, t: TF.cross_entropy(x, t, **kw), [_rand(6, 5), t])
    t = np.full(4, 7, np.int64)
    _both(lambda x, t: F.cross_entropy(x, t, ignore_index=7, **kw),
          lambda x, t: TF.cross_entropy(x, t, ignore_index=7, **kw), [_rand(4, 3), t])
    _both(lambda x, t: F.cross_entropy(x, t, **kw), lambda x, t: TF.cross_entropy(x, t, **kw),
          [_rand(1500, 96, low=-8, high=8), _ints((1500,), 96)])


def test_cross_entropy_noncontiguous():
    x = np.ascontiguousarray(_rand(5, 4)).T  # (4, 5) transposed strides
    _both(lambda x, t: F.cross_entropy(x, t), lambda x, t: TF.cross_entropy(x, t), [x, _ints((4,), 5)])


def test_cross_entropy_grads():
    t = ember.tensor(_ints((4,), 3, ignore=-100))
    w = ember.tensor([0.5, 1.0, 2.0], dtype=ember.float64)
    for kw in [{}, dict(weight=w, label_smoothing=0.2), dict(reduction="none", label_smoothing=0.1),
               dict(reduction="sum", weight=w)]:
        check_gradcheck([(4, 3)], lambda x: F.cross_entropy(x, t, **kw))
        x = ember.tensor(_rand(4, 3, dtype=F64), requires_grad=True)
        assert ember.autograd.gradgradcheck(lambda x: F.cross_entropy(x, t, **kw), [x])
    t3 = ember.tensor(_ints((2, 2), 3))
    assert ember.autograd.gradgradcheck(lambda x: F.cross_entropy(x, t3, reduction="none"),
                                        [ember.tensor(_rand(2, 3, 2, dtype=F64), requires_grad=True)])
    # soft targets: gradients of input and target, first and second order
    for kw in [{}, dict(weight=w, label_smoothing=0.3, reduction="none")]:
        check_gradcheck([(4, 3), (4, 3)], lambda x, p: F.cross_entropy(x, p, **kw))
        ins = [ember.tensor(_rand(4, 3, dtype=F64), requires_grad=True),
               ember.tensor(_probs(4, 3, dtype=F64), requires_grad=True)]
        assert ember.autograd.gradgradcheck(lambda x, p: F.cross_entropy(x, p, **kw), ins)


def test_cross_entropy_errors():
    x = ember.randn(4, 5)
    with pytest.raises(RuntimeError, match=r"ember.nn.functional.cross_entropy: expected target of dtype int64 "
                                           r"\(class indices\) or float \(probabilities\)"):
        F.cross_entropy(x, ember.tensor([1, 2, 3, 4], dtype=ember.int32))
    with pytest.raises(ValueError, match="ember.nn.functional.cross_entropy: expected target of shape"):
        F.cross_entropy(x, ember.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="ember.nn.functional.cross_entropy: expected target of shape"):
        F.cross_entropy(x, ember.randn(4, 4))
    with pytest.raises(IndexError, match="ember.cross_entropy: target 5 is out of bounds"):
        F.cross_entropy(x, ember.tensor([1, 2, 5, 0]))
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, ember.tensor([1, -1, 0, 0]))
    with pytest.raises(ValueError, match="ember.nn.functional.cross_entropy: reduction must be"):
        F.cross_entropy(x, ember.tensor([1, 2, 3, 4]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, ember.tensor([1, 2, 3, 4]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="ember.nn.functional.cross_entropy: expected weight of shape"):
        F.cross_entropy(x, ember.tensor([1, 2, 3, 4]), ember.ones(3))


# --- nll_loss -------------------------------------------------------------------------------
@pytest.mark.parametrize("xs,ts", CE_SHAPES)
@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("opts", [{}, dict(weight=True), dict(ignore_index=1), dict(weight=True, ignore_index=0)])
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_nll_loss(xs, ts, reduction, opts, dtype):
    c = xs[0] if len(xs) == 1 else xs[1]
    kw = dict(reduction=reduction, ignore_index=opts.get("ignore_index", -100))
    x, t = _rand(*xs, dtype=dtype), _ints(ts, c, seed=1)
    w = _rand(c, seed=2, low=0.2, high=2.0, dtype=dtype) if opts.get("weight") else None
    _both(lambda x, t: F.nll_loss(x, t, None if w is None else ember.tensor(w), **kw),
          lambda x, t: TF.nll_loss(x, t, None if w is None else torch.tensor(w), **kw), [x, t], dtype)


def test_nll_loss_module_grads_errors():
    w = _rand(4, low=0.5, high=1.5)
    check_module(nn.NLLLoss(ember.tensor(w), ignore_index=1), torch.nn.NLLLoss(torch.tensor(w), ignore_index=1),
                 None, inputs=[_rand(5, 4), _ints((5,), 4)])
    t = ember.tensor(_ints((5,), 4, ignore=-100))
    check_gradcheck([(5, 4)], lambda x: F.nll_loss(x, t))
    with pytest.raises(IndexError, match="ember.nn.functional.nll_loss: target 4 is out of bounds"):
        F.nll_loss(ember.randn(2, 4), ember.tensor([0, 4]))
    with pytest.raises(RuntimeError, match=r"ember.nn.functional.nll_loss: expected target of dtype int64 \(class"):
        F.nll_loss(ember.randn(2, 4), ember.randn(2, 4))


# --- regression losses ----------------------------------------------------------------------
REGRESSION = [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", dict(beta=0.5)),
    ("smooth_l1_loss", dict(beta=0.0)), ("huber_loss", {}), ("huber_loss", dict(delta=0.7)),
    ("soft_margin_loss", {}), ("poisson_nll_loss", {}), ("poisson_nll_loss", dict(full=True)),
    ("kl_div", {}), ("kl_div", dict(log_target=True)),
]


NO_TARGET_GRAD = {"soft_margin_loss"}


@pytest.mark.parametrize("name,kw", REGRESSION)
@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_pointwise_losses(name, kw, reduction, dtype):
    x, y = _rand(3, 4, dtype=dtype), _rand(3, 4, seed=1, dtype=dtype)
    if name == "soft_margin_loss":
        y = np.sign(y)
    if name == "poisson_nll_loss":
        y = _rand(3, 4, seed=1, low=0.0, high=4.0, dtype=dtype)
    if name == "kl_div" and not kw.get("log_target"):
        y = _probs(3, 4, seed=1, dtype=dtype)
        y[0, 0] = 0  # xlogy(0, 0) = 0
    if name in NO_TARGET_GRAD:  # torch has no gradient for these targets
        _both(lambda x: getattr(F, name)(x, ember.tensor(y), reduction=reduction, **kw),
              lambda x: getattr(TF, name)(x, torch.tensor(y), reduction=reduction, **kw), [x], dtype)
        return
    _both(lambda x, y: getattr(F, name)(x, y, reduction=reduction, **kw),
          lambda x, y: getattr(TF, name)(x, y, reduction=reduction, **kw), [x, y], dtype)


def test_pointwise_extras():
    x, y, w = _rand(3, 4), _rand(3, 4, seed=1), _rand(3, 4, seed=2, low=0.1, high=1.0)
    for name in ("mse_loss", "l1_loss", "huber_loss"):
        for r in RED:
            _both(lambda x, y, w: getattr(F, name)(x, y, reduction=r, weight=w),
                  lambda x, y, w: getattr(TF, name)(x, y, reduction=r, weight=w), [x, y, w])
    _both(lambda x: F.poisson_nll_loss(x, ember.tensor(np.abs(y)), log_input=False, eps=1e-3),
          lambda x: TF.poisson_nll_loss(x, torch.tensor(np.abs(y)), log_input=False, eps=1e-3), [np.abs(x) + 0.1])
    _both(lambda x: F.kl_div(x, ember.tensor(_probs(3, 4)), reduction="batchmean"),
          lambda x: TF.kl_div(x, torch.tensor(_probs(3, 4)), reduction="batchmean"), [x])
    with pytest.warns(UserWarning, match="ember.nn.functional.mse_loss"):  # broadcasting target
        _both(lambda x, y: F.mse_loss(x, y), lambda x, y: TF.mse_loss(x, y), [x, y[0]])
    with pytest.raises(ValueError, match="ember.nn.functional.mse_loss: reduction must be"):
        F.mse_loss(ember.ones(2), ember.ones(2), reduction="avg")
    with pytest.raises(ValueError, match="ember.nn.functional.l1_loss: weight of shape"):
        F.l1_loss(ember.ones(2, 2), ember.ones(2, 2), weight=ember.ones(2))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss",
                                  "kl_div", "poisson_nll_loss"])
def test_pointwise_gradcheck(name):
    check_gradcheck([(3, 4), (3, 4)], lambda x, y: getattr(F, name)(x, y, reduction="sum"), low=0.1, high=1.0)


# --- binary cross entropy -------------------------------------------------------------------
@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_binary_cross_entropy(reduction, dtype):
    x, y = _rand(3, 4, low=0.02, high=0.98, dtype=dtype), _rand(3, 4, seed=1, low=0, high=1, dtype=dtype)
    w = _rand(4, seed=2, low=0.2, high=2.0, dtype=dtype)
    _both(lambda x, y: F.binary_cross_entropy(x, y, reduction=reduction),
          lambda x, y: TF.binary_cross_entropy(x, y, reduction=reduction), [x, y], dtype)
    _both(lambda x, y: F.binary_cross_entropy(x, y, ember.tensor(w), reduction=reduction),
          lambda x, y: TF.binary_cross_entropy(x, y, torch.tensor(w), reduction=reduction), [x, y], dtype)


def test_binary_cross_entropy_clamp_and_errors():
    x = np.array([0.0, 1.0, 0.5, 1e-50], np.float64)
    y = np.array([1.0, 0.0, 0.3, 1.0], np.float64)
    _both(lambda x: F.binary_cross_entropy(x, ember.tensor(y), reduction="none"),
          lambda x: TF.binary_cross_entropy(x, torch.tensor(y), reduction="none"), [x], F64, grad=False)
    with pytest.raises(RuntimeError, match="ember.nn.functional.binary_cross_entropy: all elements of input"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))
    with pytest.raises(ValueError, match="ember.nn.functional.binary_cross_entropy: expected target of"):
        F.binary_cross_entropy(ember.tensor([0.5, 0.5]), ember.tensor([1.0]))
    check_gradcheck([(3, 4), (3, 4)], lambda x, y: F.binary_cross_entropy(x, y), low=0.1, high=0.9)


@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("opts", [{}, dict(weight=True), dict(pos_weight=True), dict(weight=True, pos_weight=True)])
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_bce_with_logits(reduction, opts, dtype):
    x, y = _rand(3, 4, low=-30, high=30, dtype=dtype), _rand(3, 4, seed=1, low=0, high=1, dtype=dtype)
    w = _rand(3, 1, seed=2, low=0.2, high=2.0, dtype=dtype) if opts.get("weight") else None
    pw = _rand(4, seed=3, low=0.2, high=3.0, dtype=dtype) if opts.get("pos_weight") else None
    _both(lambda x, y: F.binary_cross_entropy_with_logits(x, y, None if w is None else ember.tensor(w),
                                                          reduction=reduction,
                                                          pos_weight=None if pw is None else ember.tensor(pw)),
          lambda x, y: TF.binary_cross_entropy_with_logits(x, y, None if w is None else torch.tensor(w),
                                                           reduction=reduction,
                                                           pos_weight=None if pw is None else torch.tensor(pw)),
          [x, y], dtype)


def test_bce_modules_and_gradcheck():
    w, pw = _rand(4, low=0.5, high=1.5), _rand(4, seed=1, low=0.5, high=2.0)
    e = nn.BCEWithLogitsLoss(weight=ember.tensor(w), pos_weight=ember.tensor(pw))
    t = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw))
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight", "pos_weight"]
    check_module(e, t, None, inputs=[_rand(3, 4), _rand(3, 4, seed=1, low=0, high=1)])
    check_module(nn.BCELoss(ember.tensor(w)), torch.nn.BCELoss(torch.tensor(w)), None,
                 inputs=[_rand(3, 4, low=0.1, high=0.9), _rand(3, 4, seed=1, low=0, high=1)])
    pw64 = ember.tensor(pw, dtype=ember.float64)
    check_gradcheck([(3, 4), (3, 4)], lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw64),
                    low=0.0, high=1.0)


# --- margin / embedding losses --------------------------------------------------------------
def _signs(shape, seed=0):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0).astype(np.float32)


@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_margin_losses(reduction, dtype):
    a, b, c = _rand(4, 5, dtype=dtype), _rand(4, 5, seed=1, dtype=dtype), _rand(4, 5, seed=2, dtype=dtype)
    y = _signs((4,)).astype(dtype)
    for margin in (0.0, 0.3):
        _both(lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin, reduction=reduction),
              lambda a, b, y: TF.cosine_embedding_loss(a, b, y, margin, reduction=reduction), [a, b, y], dtype)
        _both(lambda a, b, y: F.margin_ranking_loss(a, b, y, margin, reduction=reduction),
              lambda a, b, y: TF.margin_ranking_loss(a, b, y, margin, reduction=reduction),
              [a[:, 0], b[:, 0], y], dtype)
    _both(lambda a, y: F.hinge_embedding_loss(a, y, 0.5, reduction=reduction),
          lambda a, y: TF.hinge_embedding_loss(a, y, 0.5, reduction=reduction),
          [a, _signs((4, 5)).astype(dtype)], dtype)
    _both(lambda a, y: F.multilabel_soft_margin_loss(a, y, reduction=reduction),
          lambda a, y: TF.multilabel_soft_margin_loss(a, y, reduction=reduction),
          [a, (_signs((4, 5)) > 0).astype(dtype)], dtype)
    w = _rand(5, seed=3, low=0.5, high=1.5, dtype=dtype)
    _both(lambda a, y: F.multilabel_soft_margin_loss(a, y, ember.tensor(w), reduction=reduction),
          lambda a, y: TF.multilabel_soft_margin_loss(a, y, torch.tensor(w), reduction=reduction),
          [a, (_signs((4, 5)) > 0).astype(dtype)], dtype)
    for kw in [dict(), dict(p=2, margin=0.5), dict(weight=True)]:
        kw_e = dict(kw, weight=ember.tensor(w)) if kw.get("weight") else kw
        kw_t = dict(kw, weight=torch.tensor(w)) if kw.get("weight") else kw
        _both(lambda a, t: F.multi_margin_loss(a, t, reduction=reduction, **kw_e),
              lambda a, t: TF.multi_margin_loss(a, t, reduction=reduction, **kw_t), [a, _ints((4,), 5)], dtype)
    for kw in [dict(), dict(margin=0.5, p=1), dict(swap=True), dict(p=3, eps=1e-3)]:
        _both(lambda a, b, c: F.triplet_margin_loss(a, b, c, reduction=reduction, **kw),
              lambda a, b, c: TF.triplet_margin_loss(a, b, c, reduction=reduction, **kw), [a, b, c], dtype)


def test_margin_unbatched_and_modules():
    a, b, c = _rand(5), _rand(5, seed=1), _rand(5, seed=2)
    _both(lambda a, b: F.cosine_embedding_loss(a, b, ember.tensor(-1.0), 0.1),
          lambda a, b: TF.cosine_embedding_loss(a, b, torch.tensor(-1.0), 0.1), [a, b])
    _both(lambda a: F.multi_margin_loss(a, ember.tensor(2)), lambda a: TF.multi_margin_loss(a, torch.tensor(2)), [a])
    a, b, c = _rand(3, 5), _rand(3, 5, seed=1), _rand(3, 5, seed=2)
    labels = (_signs((3, 5)) > 0).astype(np.float32)
    pairs = [(nn.CosineEmbeddingLoss(0.2), torch.nn.CosineEmbeddingLoss(0.2), [a, b, _signs((3,))]),
             (nn.MarginRankingLoss(0.1), torch.nn.MarginRankingLoss(0.1), [_rand(3), _rand(3, seed=1), _signs((3,))]),
             (nn.HingeEmbeddingLoss(), torch.nn.HingeEmbeddingLoss(), [_rand(3, 5), _signs((3, 5))]),
             (nn.SoftMarginLoss(), torch.nn.SoftMarginLoss(), [_rand(3, 5), _signs((3, 5))]),
             (nn.MultiLabelSoftMarginLoss(), torch.nn.MultiLabelSoftMarginLoss(), [a, labels]),
             (nn.MultiMarginLoss(p=2), torch.nn.MultiMarginLoss(p=2), [_rand(3, 5), _ints((3,), 5)]),
             (nn.TripletMarginLoss(swap=True), torch.nn.TripletMarginLoss(swap=True), [a, b, c]),
             (nn.TripletMarginWithDistanceLoss(margin=0.5), torch.nn.TripletMarginWithDistanceLoss(margin=0.5),
              [_rand(3, 5), _rand(3, 5, seed=1), _rand(3, 5, seed=2)])]
    for e, t, ins in pairs:
        if isinstance(e, (nn.SoftMarginLoss, nn.MultiLabelSoftMarginLoss, nn.HingeEmbeddingLoss,
                          nn.CosineEmbeddingLoss, nn.MarginRankingLoss)):  # torch: no target gradient
            *ins, y = ins
            def call(m, *xs, y=y):
                return m(*xs, torch.tensor(y) if isinstance(m, torch.nn.Module) else ember.tensor(y))
            check_module(e, t, None, inputs=ins, call=call)
        else:
            check_module(e, t, None, inputs=ins)
    w = _rand(5, low=0.5, high=1.5)
    assert list(nn.MultiMarginLoss(weight=ember.tensor(w)).state_dict()) == ["weight"]
    with pytest.raises(ValueError, match="ember.nn.functional.triplet_margin_loss: margin"):
        F.triplet_margin_loss(ember.ones(2, 3), ember.ones(2, 3), ember.ones(2, 3), margin=0)
    with pytest.raises(RuntimeError, match="ember.nn.functional.margin_ranking_loss"):
        F.margin_ranking_loss(ember.ones(2, 3), ember.ones(2), ember.ones(2))


def test_margin_gradcheck():
    y = ember.tensor(_signs((4,)), dtype=ember.float64)
    check_gradcheck([(4, 5), (4, 5)], lambda a, b: F.cosine_embedding_loss(a, b, y, 0.1))
    check_gradcheck([(4, 5), (4, 5), (4, 5)], lambda a, b, c: F.triplet_margin_loss(a, b, c, swap=True))
    check_gradcheck([(4, 5), (5,)], lambda a, w: F.multilabel_soft_margin_loss(a, (a.detach() > 0).double(), w))
    t = ember.tensor(_ints((4,), 5))
    check_gradcheck([(4, 5)], lambda a: F.multi_margin_loss(a, t, p=2, margin=0.5))
    check_gradcheck([(4,), (4,)], lambda a, b: F.margin_ranking_loss(a, b, y, 0.2))
    check_gradcheck([(4,)], lambda a: F.hinge_embedding_loss(a, y, 0.5))


# --- gaussian nll -----------------------------------------------------------------------------
@pytest.mark.parametrize("vshape", [(3, 4), (3,), (3, 1), "float"])
@pytest.mark.parametrize("kw", [dict(), dict(full=True, reduction="sum"), dict(reduction="none", eps=0.5)])
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_gaussian_nll_loss(vshape, kw, dtype):
    x, y = _rand(3, 4, dtype=dtype), _rand(3, 4, seed=1, dtype=dtype)
    if vshape == "float":
        _both(lambda x, y: F.gaussian_nll_loss(x, y, 0.7, **kw), lambda x, y: TF.gaussian_nll_loss(x, y, 0.7, **kw),
              [x, y], dtype)
        return
    v = _rand(*vshape, seed=2, low=0.0, high=2.0, dtype=dtype)  # some entries below eps=0.5: clamped
    _both(lambda x, y, v: F.gaussian_nll_loss(x, y, v, **kw), lambda x, y, v: TF.gaussian_nll_loss(x, y, v, **kw),
          [x, y, v], dtype)


def test_gaussian_nll_module_and_errors():
    check_module(nn.GaussianNLLLoss(full=True), torch.nn.GaussianNLLLoss(full=True), None,
                 inputs=[_rand(3, 4), _rand(3, 4, seed=1), _rand(3, 4, seed=2, low=0.1, high=2)])
    with pytest.raises(ValueError, match="ember.nn.functional.gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(ember.ones(3), ember.ones(3), -ember.ones(3))
    with pytest.raises(ValueError, match="ember.nn.functional.gaussian_nll_loss: var of shape"):
        F.gaussian_nll_loss(ember.ones(3, 4), ember.ones(3, 4), ember.ones(2, 2))
    check_gradcheck([(3, 4), (3, 4), (3, 4)], lambda x, y, v: F.gaussian_nll_loss(x, y, v), low=0.1, high=2.0)


# --- modules of the pointwise losses --------------------------------------------------------
@pytest.mark.parametrize("pair", [
    ("MSELoss", {}), ("L1Loss", dict(reduction="sum")), ("SmoothL1Loss", dict(beta=0.5)),
    ("HuberLoss", dict(delta=0.5, reduction="none")), ("KLDivLoss", dict(reduction="batchmean", log_target=True)),
    ("PoissonNLLLoss", dict(full=True)), ("MSELoss", dict(size_average=False)), ("L1Loss", dict(reduce=False))])
def test_pointwise_modules(pair):
    name, kw = pair
    e, t = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert e.reduction == t.reduction
    y = _rand(3, 4, seed=1, low=0.0, high=3.0)
    check_module(e, t, None, inputs=[_rand(3, 4), y])
    check_module(getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw), None,
                 inputs=[_rand(3, 4, dtype=F64), y.astype(F64)], dtype=F64)


# --- distances ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, F64])
def test_distances(dtype):
    a, b = _rand(4, 5, dtype=dtype), _rand(4, 5, seed=1, dtype=dtype)
    for kw in [dict(), dict(p=1.0, dim=0), dict(p=3.0, dim=-1, eps=0.5)]:
        _both(lambda a: F.normalize(a, **kw), lambda a: TF.normalize(a, **kw), [a], dtype)
    for kw in [dict(), dict(dim=0), dict(dim=-1, eps=10.0)]:
        _both(lambda a, b: F.cosine_similarity(a, b, **kw), lambda a, b: TF.cosine_similarity(a, b, **kw),
              [a, b], dtype)
    _both(lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b), [a, b[:1]], dtype)
    for kw in [dict(), dict(p=1.0, keepdim=True), dict(p=3.0, eps=1e-2), dict(p=float("inf"))]:
        _both(lambda a, b: F.pairwise_distance(a, b, **kw), lambda a, b: TF.pairwise_distance(a, b, **kw),
              [a, b], dtype)
    _both(lambda a, b: F.pairwise_distance(a, b), lambda a, b: TF.pairwise_distance(a, b), [a, b[0]], dtype)
    for p in (1.0, 2.0, 3.0):
        _both(lambda a: F.pdist(a, p), lambda a: TF.pdist(a, p), [a], dtype)
    check_module(nn.CosineSimilarity(dim=0), torch.nn.CosineSimilarity(dim=0), None, inputs=[a, b], dtype=dtype)
    check_module(nn.PairwiseDistance(p=1.0, keepdim=True), torch.nn.PairwiseDistance(p=1.0, keepdim=True), None,
                 inputs=[a, b], dtype=dtype)


def test_distance_gradcheck_and_errors():
    check_gradcheck([(3, 4)], lambda a: F.normalize(a, dim=-1))
    check_gradcheck([(3, 4), (3, 4)], lambda a, b: F.cosine_similarity(a, b))
    check_gradcheck([(3, 4), (3, 4)], lambda a, b: F.pairwise_distance(a, b, p=3.0))
    check_gradcheck([(4, 3)], lambda a: F.pdist(a))
    with pytest.raises(RuntimeError, match="ember.nn.functional.cosine_similarity"):
        F.cosine_similarity(ember.ones(2, 3), ember.ones(4, 3))
    with pytest.raises(RuntimeError, match="ember.nn.functional.pdist"):
        F.pdist(ember.ones(2, 3, 4))


def test_top_level_distances():
    a, b = _rand(4, 5), _rand(4, 5, seed=1)
    _both(lambda a, b: ember.cosine_similarity(a, b, 0), lambda a, b: torch.cosine_similarity(a, b, 0), [a, b])
    _both(lambda a, b: ember.pairwise_distance(a, b, 1.0), lambda a, b: torch.pairwise_distance(a, b, 1.0), [a, b])
    _both(lambda a: ember.pdist(a), lambda a: torch.pdist(a), [a])
