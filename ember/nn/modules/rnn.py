"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional) and their single-step cells.

The input projections of all time steps are one matmul per layer and direction; the loop over time
is the only Python loop, two or three ops per step (the hidden matmul and a fused cell op).
"""
import math
import numbers
import warnings

from .module import Module
from ..parameter import Parameter
from .. import functional as F
from .. import init
from ... import creation as _c
from ..._tensor import Tensor
from ...ops import registry as R
from ...ops.registry import FUNCTIONS
from ...ops import recurrent as _rec

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
_NAMES = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _not_packed(name, input):
    if not isinstance(input, Tensor):
        kind = type(input).__name__
        if kind == "PackedSequence" or hasattr(input, "batch_sizes"):
            raise NotImplementedError(f"ember.nn.{name}: PackedSequence inputs are not supported; pass a padded "
                                      f"(L, N, H_in) tensor (batch_first: (N, L, H_in)) instead")
        raise TypeError(f"ember.nn.{name}: expected a Tensor input, got {kind}")


class RNNBase(Module):
    r"""The stack of recurrent layers behind :class:`RNN`, :class:`LSTM` and :class:`GRU`.

    Layer ``k`` (direction suffix ``_reverse`` for the backward one) owns ``weight_ih_l{k}``
    (gates*hidden, in), ``weight_hh_l{k}`` (gates*hidden, hidden or proj), ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` and, for an LSTM with ``proj_size``, ``weight_hr_l{k}`` (proj, hidden), all
    initialised from :math:`U(-1/\sqrt{hidden}, 1/\sqrt{hidden})` as in PyTorch.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = _NAMES.get(mode, mode)
        if mode not in _GATES:
            raise ValueError(f"ember.nn.RNNBase: unrecognized RNN mode {mode!r}")
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"ember.nn.{name}: dropout should be a number in range [0, 1] representing the "
                             f"probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=3)
        for arg, val in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(val, bool):
                raise TypeError(f"ember.nn.{name}: {arg} should be of type bool, got: {type(val).__name__}")
        for arg, val in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(val, int) or isinstance(val, bool):
                raise TypeError(f"ember.nn.{name}: {arg} should be of type int, got: {type(val).__name__}")
            if val <= 0:
                raise ValueError(f"ember.nn.{name}: {arg} must be greater than zero, got {val}")
        if proj_size < 0:
            raise ValueError(f"ember.nn.{name}: proj_size should be a positive integer or zero to disable "
                             f"projections, got {proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"ember.nn.{name}: proj_size has to be smaller than hidden_size, got proj_size="
                             f"{proj_size} and hidden_size={hidden_size}")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        D = 2 if bidirectional else 1
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            for direction in range(D):
                layer_in = input_size if layer == 0 else real_hidden * D
                shapes = [("weight_ih_l{}{}", (gate_size, layer_in)), ("weight_hh_l{}{}", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih_l{}{}", (gate_size,)), ("bias_hh_l{}{}", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr_l{}{}", (proj_size, hidden_size))]
                names = []
                for fmt, shape in shapes:
                    n = fmt.format(layer, "_reverse" if direction == 1 else "")
                    setattr(self, n, Parameter(_c.empty(*shape, dtype=dtype)))
                    names.append(n)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _name(self):
        return _NAMES[self.mode]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    def flatten_parameters(self):
        """No-op (PyTorch packs weights for cuDNN here)."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # --- argument checks ---------------------------------------------------------------------
    def _prepare(self, input, hx):
        """Validate; return (batched input, list of initial states, is_batched)."""
        name = self._name
        _not_packed(name, input)
        if input.ndim not in (2, 3):
            raise ValueError(f"ember.nn.{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor of shape "
                             f"{tuple(input.shape)} instead")
        w = self.weight_ih_l0
        if input.dtype != w.dtype:
            raise ValueError(f"ember.nn.{name}: input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). "
                             f"Convert input: input.to({w.dtype}), or convert model: model.to({input.dtype})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"ember.nn.{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        batched = input.ndim == 3
        states = [] if hx is None else list(hx) if self.mode == "LSTM" else [hx]
        if self.mode == "LSTM" and hx is not None and len(states) != 2:
            raise RuntimeError(f"ember.nn.LSTM: hx must be a tuple (h_0, c_0), got {len(states)} tensors")
        want = 3 if batched else 2
        if any(s.ndim != want for s in states):
            what = "hx and cx" if self.mode == "LSTM" else "hx"
            got = ", ".join(f"{s.ndim}-D" for s in states)
            raise RuntimeError(f"ember.nn.{name}: For {'batched 3-D' if batched else 'unbatched 2-D'} input, "
                               f"{what} should also be {want}-D but got ({got}) tensors")
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
            states = [s.unsqueeze(1) for s in states]
        B = input.shape[0 if self.batch_first else 1]
        LD = self.num_layers * (2 if self.bidirectional else 1)
        sizes = [(LD, B, self.proj_size or self.hidden_size)]
        if self.mode == "LSTM":
            sizes.append((LD, B, self.hidden_size))
        if not states:
            states = [_c.zeros(*s, dtype=input.dtype) for s in sizes]
        for k, (s, want_shape) in enumerate(zip(states, sizes)):
            if tuple(s.shape) != want_shape:
                which = f"hidden[{k}]" if self.mode == "LSTM" else "hidden"
                raise RuntimeError(f"ember.nn.{name}: Expected {which} size {want_shape}, got {list(s.shape)}")
        return input, states, batched

    # --- the recurrence ----------------------------------------------------------------------------
    def _direction(self, steps, h, c, w_hh, b_hh, w_hr):
        """Run one direction over the list of per-step input projections; returns (outputs, h, c)."""
        mode, ys = self.mode, []
        w_hr_t = None if w_hr is None else w_hr.t()
        linear, matmul = F.linear, FUNCTIONS["matmul"]
        for xt in steps:
            hg = linear(h, w_hh, b_hh)
            if mode == "LSTM":
                h, c = R.apply(_rec.LSTM_CELL, xt, hg, c)
                if w_hr_t is not None:
                    h = matmul(h, w_hr_t)
            elif mode == "GRU":
                h = R.apply(_rec.GRU_CELL, xt, hg, h)
            elif mode == "RNN_TANH":
                h = (xt + hg).tanh()
            else:
                h = (xt + hg).relu()
            ys.append(h)
        return ys, h, c

    def _run(self, input, states):
        tdim = 1 if self.batch_first else 0
        if input.shape[tdim] == 0:
            raise RuntimeError(f"ember.nn.{self._name}: input has no time steps (shape {tuple(input.shape)})")
        D = 2 if self.bidirectional else 1
        h0 = states[0].unbind(0)
        c0 = states[1].unbind(0) if self.mode == "LSTM" else [None] * len(h0)
        stack, x, hs, cs = FUNCTIONS["stack"], input, [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                w = [getattr(self, n) for n in self._all_weights[k]]
                b_ih, b_hh = (w[2], w[3]) if self.bias else (None, None)
                steps = R.apply(_rec.RNN_STEPS, F.linear(x, w[0], b_ih), dim=tdim)
                if d == 1:
                    steps = steps[::-1]
                ys, h, c = self._direction(steps, h0[k], c0[k], w[1], b_hh, w[-1] if self.proj_size else None)
                outs.append(stack(ys[::-1] if d == 1 else ys, tdim))
                hs.append(h)
                cs.append(c)
            x = outs[0] if D == 1 else FUNCTIONS["cat"](outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, stack(hs, 0), (stack(cs, 0) if self.mode == "LSTM" else None)

    def forward(self, input, hx=None):
        input, states, batched = self._prepare(input, hx)
        out, h, c = self._run(input, states)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
            h = h.squeeze(1)
            c = None if c is None else c.squeeze(1)
        return out, ((h, c) if self.mode == "LSTM" else h)


class RNN(RNNBase):
    r"""Elman RNN: :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})` (or ReLU).

    ``forward(input, hx=None)`` takes ``input`` (L, N, H_in) (``batch_first``: (N, L, H_in); unbatched
    (L, H_in)) and ``hx`` (num_layers * D, N, H) and returns ``(output, h_n)``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, proj_size=None):
        if proj_size is not None:
            raise ValueError("ember.nn.RNN: proj_size argument is only supported for LSTM, not RNN or GRU")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"ember.nn.RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    r"""Long short-term memory, gates :math:`[i, f, g, o]` stacked in that order:

    .. math::
        i, f, o = \sigma(\cdot),\; g = \tanh(\cdot) \text{ of } W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}

        c_t = f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t) \;(\text{then } W_{hr} h_t
        \text{ with proj\_size})

    ``forward(input, (h_0, c_0)=None)`` returns ``(output, (h_n, c_n))``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    r"""Gated recurrent unit, gates :math:`[r, z, n]`:

    .. math::
        r, z = \sigma(W_{i\cdot} x_t + b_{i\cdot} + W_{h\cdot} h_{t-1} + b_{h\cdot}),\quad
        n = \tanh(W_{in} x_t + b_{in} + r \odot (W_{hn} h_{t-1} + b_{hn})),\quad
        h_t = (1 - z) \odot n + z \odot h_{t-1}

    ``forward(input, hx=None)`` returns ``(output, h_n)``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, proj_size=None):
        if proj_size is not None:
            raise ValueError("ember.nn.GRU: proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


# --- cells ------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    r"""One step: ``weight_ih`` (chunks*hidden, in), ``weight_hh`` (chunks*hidden, hidden), ``bias_ih``,
    ``bias_hh`` (chunks*hidden,), all from :math:`U(-1/\sqrt{hidden}, 1/\sqrt{hidden})`."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(_c.empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(_c.empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_c.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(_c.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _batch(self, input, states):
        """(input, states, batched) with a batch dim added to unbatched (1-D) input."""
        name = type(self).__name__
        _not_packed(name, input)
        if input.ndim not in (1, 2):
            raise ValueError(f"ember.nn.{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"ember.nn.{name}: input has inconsistent input_size: got {input.shape[-1]} "
                               f"expected {self.input_size}")
        for k, s in enumerate(states):
            if s is not None and s.ndim not in (1, 2):
                which = f"hx[{k}]" if len(states) > 1 else "hidden"
                raise ValueError(f"ember.nn.{name}: Expected {which} to be 1D or 2D, got {s.ndim}D instead")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        zeros = None
        out = []
        for s in states:
            if s is None:
                zeros = zeros if zeros is not None else _c.zeros(input.shape[0], self.hidden_size,
                                                                 dtype=input.dtype)
                s = zeros
            elif not batched:
                s = s.unsqueeze(0)
            out.append(s)
        return input, out, batched

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    r""":math:`h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})` (or ReLU)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (hx,), batched = self._batch(input, [hx])
        if self.nonlinearity == "tanh":
            h = _rec.rnn_tanh_cell(input, hx, *self._weights())
        elif self.nonlinearity == "relu":
            h = _rec.rnn_relu_cell(input, hx, *self._weights())
        else:
            raise RuntimeError(f"ember.nn.RNNCell: Unknown nonlinearity: {self.nonlinearity}")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    r"""One LSTM step (gates :math:`[i, f, g, o]`): returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        states = [None, None] if hx is None else list(hx)
        input, (h, c), batched = self._batch(input, states)
        h, c = _rec.lstm_cell(input, (h, c), *self._weights())
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    r"""One GRU step (gates :math:`[r, z, n]`): :math:`h' = (1 - z) \odot n + z \odot h`."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (hx,), batched = self._batch(input, [hx])
        h = _rec.gru_cell(input, hx, *self._weights())
        return h if batched else h.squeeze(0)
