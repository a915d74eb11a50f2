"""Loss ops: cross_entropy as one fused op (log_softmax + nll) with a fused backward op.

The other losses are compositions of ops in ember.nn.functional.loss.

cross_entropy's second output (the rows' logsumexp) only feeds its backward kernel; its
gradient is ignored, and the backward op's own rule recomputes log_softmax from ``x`` with
ops, so derivatives of every order are exact.
"""
from . import registry as R
from .registry import register, call


def _unsq(t, cdim):
    return t.unsqueeze(cdim)


def _terms(ctx, x, t, w):
    """(q, Q, scale-free denominator) of the loss ``sum_rows -sum_c q log_softmax(x)``, in ops:
    q: the per-class target coefficients (None for class indices: built lazily), Q: their sum
    per row (class dim kept), valid: the non-ignored rows (class dim kept; None if soft)."""
    cdim, ls = ctx.cdim, ctx.label_smoothing
    c = x.shape[cdim]
    wv = w.reshape((-1,) + (1,) * (x.ndim - cdim - 1)) if w is not None else None
    if ctx.soft:
        q = t * (1 - ls) + ls / c if ls else t
        q = q * wv if wv is not None else q
        return dict(q=q, Q=q.sum(dim=cdim, keepdim=True), wv=wv, denom=x.numel() // max(c, 1))
    valid = _unsq(t != ctx.ignore_index, cdim)
    tc = _unsq(R.FUNCTIONS["where"](t != ctx.ignore_index, t, 0), cdim)
    validf = valid.to(x.dtype)
    wt = (w[tc] if w is not None else 1) * validf
    total = (w.sum() if w is not None else c) * (ls / c)
    Q = wt * (1 - ls) + validf * total
    return dict(tc=tc, wt=wt, validf=validf, Q=Q, wv=wv, denom=wt.sum() if w is not None else validf.sum())


def _scale(ctx, g, terms):
    """The upstream gradient per row (class dim kept)."""
    if ctx.reduction == "none":
        return _unsq(g, ctx.cdim)
    return g / terms["denom"] if ctx.reduction == "mean" else g


def _reduce(ctx, r, terms):
    """Sum per-row values ``r`` (class dim kept) the way the loss was reduced."""
    r = r.squeeze(ctx.cdim)
    if ctx.reduction == "none":
        return r
    return r.sum() / terms["denom"] if ctx.reduction == "mean" else r.sum()


def _cross_entropy_backward_backward(ctx, u):
    g, x, t, w, _ = ctx.inputs
    cdim, ls = ctx.cdim, ctx.label_smoothing
    terms = _terms(ctx, x, t, w)
    s = _scale(ctx, g, terms)
    sm = call("softmax", x, dim=cdim)
    Q = terms["Q"]
    gg = gx = gt = None
    if ctx.needs(1):  # dx = s (Q softmax - q): softmax's vJP of u s Q
        v = u * (s * Q)
        gx = sm * (v - (v * sm).sum(dim=cdim, keepdim=True))
    usm = (u * sm).sum(dim=cdim, keepdim=True)
    if ctx.needs(0):
        if ctx.soft:
            r = Q * usm - (u * terms["q"]).sum(dim=cdim, keepdim=True)
        else:
            r = Q * usm - terms["wt"] * (1 - ls) * u.gather(cdim, terms["tc"])
            if ls:
                uw = u * terms["wv"] if terms["wv"] is not None else u
                r = r - uw.sum(dim=cdim, keepdim=True) * (terms["validf"] * (ls / x.shape[cdim]))
        gg = _reduce(ctx, r, terms)
    if ctx.soft and ctx.needs(2):  # q = w (t (1 - ls) + ls / C)
        d = (usm - u) * (s * (1 - ls))
        gt = d * terms["wv"] if terms["wv"] is not None else d
    return gg, gx, gt, None, None


def _cross_entropy_rule(ctx, g, _glse):
    x, t, w = ctx.inputs
    # ctx.attrs is exactly the backward op's attributes; only the lse output is wrapped
    gx = R.apply(CROSS_ENTROPY_BACKWARD, g, x, t, w, ctx._output(1), **ctx.attrs) if ctx.needs(0) else None
    gt = None
    if ctx.soft and ctx.needs(1):  # d loss / d t = -s (1 - ls) w log_softmax(x)
        terms = dict(denom=x.numel() // max(x.shape[ctx.cdim], 1))
        s = _scale(ctx, g, terms)
        d = call("log_softmax", x, dim=ctx.cdim) * (s * -(1 - ctx.label_smoothing))
        gt = d * w.reshape((-1,) + (1,) * (x.ndim - ctx.cdim - 1)) if w is not None else d
    return gx, gt, None


CROSS_ENTROPY = register("cross_entropy", _cross_entropy_rule, save="io")
CROSS_ENTROPY_BACKWARD = register("cross_entropy_backward", _cross_entropy_backward_backward)
