"""Recurrent kernels: the gate math of one LSTM / GRU time step, fused over (batch, gates) arrays.

Gate layouts are PyTorch's: LSTM ``[i, f, g, o]`` (4H), GRU ``[r, z, n]`` (3H) along the last dim.
``x`` is the step's input projection (``W_ih x + b_ih``), ``hg`` the hidden one (``W_hh h + b_hh``).
"""
import numpy as np

from .elementwise import _up

__all__ = ["rnn_steps", "lstm_cell", "lstm_cell_backward", "gru_cell", "gru_cell_backward"]


def _sigmoid_(a):
    """Logistic sigmoid, in place on a fresh array."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


def rnn_steps(x, *, dim):
    """The slices of ``x`` along ``dim`` (one per time step), each contiguous; one copy in all."""
    return tuple(np.moveaxis(x, dim, 0).copy())


def _lstm_gates(x, hg):
    z = _up(x) + _up(hg)
    H = z.shape[-1] // 4
    g = np.tanh(z[..., 2 * H:3 * H])
    s = _sigmoid_(z)
    return s[..., :H], s[..., H:2 * H], g, s[..., 3 * H:]


def lstm_cell(x, hg, c):
    """``(h', c')`` with ``c' = f c + i g`` and ``h' = o tanh(c')``."""
    i, f, g, o = _lstm_gates(x, hg)
    c_new = f * _up(c) + i * g
    h = o * np.tanh(c_new)
    return h.astype(c.dtype, copy=False), c_new.astype(c.dtype, copy=False)


def lstm_cell_backward(x, hg, c, c_new, gh, gc):
    """``(d gates, d c)`` of :func:`lstm_cell` (the gate grad serves both ``x`` and ``hg``)."""
    i, f, g, o = _lstm_gates(x, hg)
    H = i.shape[-1]
    gh, gc, c = _up(gh), _up(gc), _up(c)
    tc = np.tanh(_up(c_new))
    dc = gc + gh * o * (1 - tc * tc)
    dz = np.empty(np.broadcast_shapes(i.shape, dc.shape)[:-1] + (4 * H,), i.dtype)
    dz[..., :H] = dc * g * i * (1 - i)
    dz[..., H:2 * H] = dc * c * f * (1 - f)
    dz[..., 2 * H:3 * H] = dc * i * (1 - g * g)
    dz[..., 3 * H:] = gh * tc * o * (1 - o)
    return dz.astype(x.dtype, copy=False), (dc * f).astype(c_new.dtype, copy=False)


def _gru_gates(x, hg):
    x, hg = _up(x), _up(hg)
    H = x.shape[-1] // 3
    rz = _sigmoid_(x[..., :2 * H] + hg[..., :2 * H])
    r, z = rz[..., :H], rz[..., H:]
    n = np.tanh(x[..., 2 * H:] + r * hg[..., 2 * H:])
    return r, z, n, hg[..., 2 * H:]


def gru_cell(x, hg, h):
    """``h' = (1 - z) n + z h`` with ``n = tanh(x_n + r hg_n)``."""
    r, z, n, _ = _gru_gates(x, hg)
    return (n + z * (_up(h) - n)).astype(h.dtype, copy=False)


def gru_cell_backward(x, hg, h, g):
    """``(d x, d hg, d h)`` of :func:`gru_cell`."""
    r, z, n, hn = _gru_gates(x, hg)
    H, dt = r.shape[-1], h.dtype
    g, h = _up(g), _up(h)
    dan = g * (1 - z) * (1 - n * n)                   # grad of n's pre-activation
    daz = g * (h - n) * z * (1 - z)
    dar = dan * hn * r * (1 - r)
    shape = np.broadcast_shapes(r.shape, g.shape)[:-1] + (3 * H,)
    dx, dhg = np.empty(shape, r.dtype), np.empty(shape, r.dtype)
    dx[..., :H] = dhg[..., :H] = dar
    dx[..., H:2 * H] = dhg[..., H:2 * H] = daz
    dx[..., 2 * H:] = dan
    dhg[..., 2 * H:] = dan * r
    return dx.astype(x.dtype, copy=False), dhg.astype(hg.dtype, copy=False), (g * z).astype(dt, copy=False)
