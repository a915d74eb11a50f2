"""Recurrent ops: one LSTM / GRU time step as one fused op, and a sequence split into its steps.

``rnn_steps`` is one multi-output op whose backward is one ``stack``, so backpropagation through
time gathers the per-step input gradients in O(T) (T slices would each pad a whole-sequence zero
gradient). The cells' backward rules call fused backward kernels; under ``create_graph`` they are
written with elementwise ops instead, so higher-order gradients exist.
"""
from . import registry as R
from .registry import register, export, FUNCTIONS, OPS
from ..autograd.grad_mode import STATE

RNN_STEPS = register("rnn_steps", lambda ctx, *gs: R.apply(OPS["stack"], *gs, dim=ctx.dim), save="",
                     fusion="movement")


# --- LSTM ------------------------------------------------------------------------------------------
def _lstm_cell_vjp(x, hg, c, c_new, gh, gc):
    i, f, g, o = (x + hg).chunk(4, -1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    tc = c_new.tanh()
    dc = gc + gh * o * (1 - tc * tc)
    dz = FUNCTIONS["cat"]([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                           gh * tc * o * (1 - o)], -1)
    return dz, dc * f


def _lstm_cell_backward(ctx, gh, gc):
    x, hg, c = ctx.inputs
    c_new = ctx.outs[1]
    if STATE.enabled:  # create_graph: composed of differentiable ops
        dz, dc = _lstm_cell_vjp(x, hg, c, c_new, gh, gc)
    else:
        dz, dc = R.apply(LSTM_CELL_BACKWARD, x, hg, c, c_new, gh, gc)
    return dz, dz, dc


LSTM_CELL = register("lstm_cell", _lstm_cell_backward, promote="common", save="io",
                     doc="(h', c') of one LSTM step from the gate pre-activations x + hg = [i, f, g, o] and c")
LSTM_CELL_BACKWARD = register("lstm_cell_backward", None, promote="common")


# --- GRU -------------------------------------------------------------------------------------------
def _gru_cell_vjp(x, hg, h, g):
    xr, xz, xn = x.chunk(3, -1)
    hr, hz, hn = hg.chunk(3, -1)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    dan = g * (1 - z) * (1 - n * n)
    daz = g * (h - n) * z * (1 - z)
    dar = dan * hn * r * (1 - r)
    cat = FUNCTIONS["cat"]
    return cat([dar, daz, dan], -1), cat([dar, daz, dan * r], -1), g * z


def _gru_cell_backward(ctx, g):
    x, hg, h = ctx.inputs
    if STATE.enabled:
        return _gru_cell_vjp(x, hg, h, g)
    return R.apply(GRU_CELL_BACKWARD, x, hg, h, g)


GRU_CELL = register("gru_cell", _gru_cell_backward, promote="common",
                    doc="h' of one GRU step from the projections x = W_ih x + b_ih, hg = W_hh h + b_hh and h")
GRU_CELL_BACKWARD = register("gru_cell_backward", None, promote="common")


# --- public: torch.{rnn_tanh,rnn_relu,lstm,gru}_cell ------------------------------------------------
def _check_cell(name, input, hx, w_ih, w_hh, gates):
    for t, what in ((input, "input"), (w_ih, "w_ih"), (w_hh, "w_hh")):
        if t.ndim != 2:
            raise RuntimeError(f"ember.{name}: {what} must be 2-D, got shape {tuple(t.shape)}")
    H = w_hh.shape[1]
    if w_ih.shape[0] != gates * H or w_hh.shape[0] != gates * H or input.shape[1] != w_ih.shape[1]:
        raise RuntimeError(f"ember.{name}: input {tuple(input.shape)}, w_ih {tuple(w_ih.shape)} and w_hh "
                           f"{tuple(w_hh.shape)} do not match ({gates} gates of hidden size {H})")
    for h in hx:
        if tuple(h.shape) != (input.shape[0], H):
            raise RuntimeError(f"ember.{name}: hidden state of shape {tuple(h.shape)}, expected "
                               f"{(input.shape[0], H)}")


def _proj(x, w, b):
    return FUNCTIONS["matmul"](x, w.t()) if b is None else R.apply(OPS["linear"], x, w, b)


def _rnn_cell(name, act, label):
    def fn(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        _check_cell(name, input, (hx,), w_ih, w_hh, 1)
        return act(_proj(input, w_ih, b_ih) + _proj(hx, w_hh, b_hh))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"One Elman RNN step: ``{label}(W_ih x + b_ih + W_hh h + b_hh)``."
    return export(fn)


rnn_tanh_cell = _rnn_cell("rnn_tanh_cell", lambda x: x.tanh(), "tanh")
rnn_relu_cell = _rnn_cell("rnn_relu_cell", lambda x: x.relu(), "relu")


@export
def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step; ``hx = (h, c)``; returns ``(h', c')`` (gates ``[i, f, g, o]``)."""
    h, c = hx
    _check_cell("lstm_cell", input, (h, c), w_ih, w_hh, 4)
    return R.apply(LSTM_CELL, _proj(input, w_ih, b_ih), _proj(h, w_hh, b_hh), c)


@export
def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: ``h' = (1 - z) n + z h`` (gates ``[r, z, n]``)."""
    _check_cell("gru_cell", input, (hx,), w_ih, w_hh, 3)
    return R.apply(GRU_CELL, _proj(input, w_ih, b_ih), _proj(hx, w_hh, b_hh), hx)
