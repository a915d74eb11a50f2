"""Streaming metrics of ember.train.metrics against scikit-learn (the oracle), fed in batches."""
import numpy as np
import pytest
from sklearn import metrics as skm

import ember
from ember.train import metrics as M


def _batches(*arrays, size=17):
    n = len(arrays[0])
    for s in range(0, n, size):
        yield tuple(ember.tensor(a[s:s + size]) for a in arrays)


def _stream(metric, pred, target, size=17):
    metric.reset()
    for p, t in _batches(pred, target, size=size):
        metric.update(p, t)
    return metric.compute()


def _multiclass(seed, n=203, c=4):
    rs = np.random.RandomState(seed)
    logits = rs.randn(n, c).astype(np.float32)
    target = np.where(rs.rand(n) < 0.6, logits.argmax(1), rs.randint(0, c, n)).astype(np.int64)
    return logits, target


def _binary(seed, n=203):
    rs = np.random.RandomState(seed)
    target = rs.randint(0, 2, n).astype(np.int64)
    logits = (rs.randn(n) + 1.2 * (2 * target - 1) * rs.rand(n)).astype(np.float32)
    return logits, target


@pytest.mark.parametrize("seed", [0, 1])
def test_accuracy(seed):
    logits, target = _multiclass(seed)
    assert _stream(M.Accuracy(), logits, target) == pytest.approx(skm.accuracy_score(target, logits.argmax(1)))
    assert _stream(M.Accuracy(top_k=2), logits, target) == pytest.approx(
        skm.top_k_accuracy_score(target, logits, k=2, labels=range(4)))
    bl, bt = _binary(seed)
    prob = 1 / (1 + np.exp(-bl))
    want = skm.accuracy_score(bt, prob >= 0.5)
    assert _stream(M.Accuracy(), prob, bt) == pytest.approx(want)
    assert _stream(M.Accuracy(from_logits=True), bl, bt.astype(np.float32)) == pytest.approx(want)
    assert _stream(M.Accuracy(threshold=0.7), prob[:, None], bt) == pytest.approx(skm.accuracy_score(bt, prob >= 0.7))
    labels = logits.argmax(1)
    assert _stream(M.Accuracy(), labels, target) == pytest.approx(skm.accuracy_score(target, labels))


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
@pytest.mark.parametrize("cls,sk", [(M.Precision, skm.precision_score), (M.Recall, skm.recall_score),
                                    (M.F1Score, skm.f1_score)])
def test_precision_recall_f1_multiclass(cls, sk, average):
    logits, target = _multiclass(2, c=5)
    got = _stream(cls(average=average), logits, target)
    assert got == pytest.approx(sk(target, logits.argmax(1), average=average, zero_division=0))
    per_class = _stream(cls(average=None), logits, target).numpy()
    np.testing.assert_allclose(per_class, sk(target, logits.argmax(1), average=None, zero_division=0))


@pytest.mark.parametrize("cls,sk", [(M.Precision, skm.precision_score), (M.Recall, skm.recall_score),
                                    (M.F1Score, skm.f1_score)])
def test_precision_recall_f1_binary(cls, sk):
    logits, target = _binary(3)
    want = sk(target, logits >= 0, zero_division=0)
    assert _stream(cls(), logits, target) == pytest.approx(want)  # "auto" -> binary, logits detected
    assert _stream(cls(average="binary", from_logits=True), logits, target) == pytest.approx(want)
    # a class never predicted: zero_division=0 as scikit-learn
    assert _stream(cls(average="macro"), np.zeros(10, np.int64), np.arange(10) % 2) == pytest.approx(
        sk(np.arange(10) % 2, np.zeros(10, np.int64), average="macro", zero_division=0))


@pytest.mark.parametrize("seed", [0, 1])
def test_auroc(seed):
    bl, bt = _binary(seed)
    assert _stream(M.AUROC(), bl, bt) == pytest.approx(skm.roc_auc_score(bt, bl))
    ties = np.round(bl)  # heavy ties are counted as one half
    assert _stream(M.AUROC(), ties, bt) == pytest.approx(skm.roc_auc_score(bt, ties))
    logits, target = _multiclass(seed)
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    for average in ("macro", "weighted"):
        want = skm.roc_auc_score(target, prob, multi_class="ovr", average=average)
        assert _stream(M.AUROC(average=average), logits, target) == pytest.approx(want)  # softmax applied
        assert _stream(M.AUROC(average=average), prob, target) == pytest.approx(want)


def test_confusion_matrix():
    logits, target = _multiclass(4)
    got = _stream(M.ConfusionMatrix(), logits, target)
    assert got.dtype == ember.int64
    np.testing.assert_array_equal(got.numpy(), skm.confusion_matrix(target, logits.argmax(1)))
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(_stream(M.ConfusionMatrix(normalize=norm), logits, target).numpy(),
                                   skm.confusion_matrix(target, logits.argmax(1), normalize=norm))
    # grows as labels appear; num_classes fixes the size
    m = M.ConfusionMatrix(num_classes=6)
    m.update(ember.tensor([0, 1]), ember.tensor([1, 1]))
    assert tuple(m.compute().shape) == (6, 6)
    with pytest.raises(ValueError, match="num_classes=6"):
        m.update(ember.tensor([7]), ember.tensor([0]))


@pytest.mark.parametrize("shape", [(203,), (203, 3)])
def test_regression(shape):
    rs = np.random.RandomState(5)
    target = (rs.randn(*shape) * 3 + 10).astype(np.float32)
    pred = (target + rs.randn(*shape)).astype(np.float32)
    assert _stream(M.MeanSquaredError(), pred, target) == pytest.approx(skm.mean_squared_error(target, pred), rel=1e-6)
    assert _stream(M.MeanAbsoluteError(), pred, target) == pytest.approx(skm.mean_absolute_error(target, pred),
                                                                        rel=1e-6)
    assert _stream(M.R2Score(), pred, target) == pytest.approx(skm.r2_score(target, pred), rel=1e-6)
    if len(shape) == 1:  # (N, 1) predictions for (N,) targets
        assert _stream(M.R2Score(), pred[:, None], target) == pytest.approx(skm.r2_score(target, pred), rel=1e-6)
    const = np.full(20, 3.0, np.float32)
    assert _stream(M.R2Score(), const, const) == skm.r2_score(const, const) == 1.0


def test_lookup_and_errors():
    assert isinstance(M.get("accuracy"), M.Accuracy) and M.get("acc").name == "acc"
    assert isinstance(M.get("f1"), M.F1Score) and isinstance(M.get("r2_score"), M.R2Score)
    assert M.get("precision", from_logits=True).from_logits is True
    with pytest.raises(ValueError, match="unknown metric 'bogus'.*accuracy.*r2"):
        M.get("bogus")
    wrapped = M.get(lambda p, t: (p - t).abs().mean())
    assert _stream(wrapped, np.ones(10, np.float32), np.zeros(10, np.float32)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="cannot match"):
        M.Accuracy().update(ember.randn(4, 3), ember.tensor([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="average"):
        M.F1Score(average="samples")
