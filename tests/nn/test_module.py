"""Module infrastructure and containers against torch.nn: registration, traversal, modes,
conversion, state_dict round trips and errors, hooks, reprs, container semantics."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn
from helpers import check_module, torch


def _zeros(N, *shape):
    return ember.zeros(*shape) if N is nn else torch.zeros(*shape)


def _pair(build):
    """The same architecture in both frameworks, ember's loaded with torch's weights."""
    torch.manual_seed(0)
    e, t = build(nn), build(torch.nn)
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return e, t


def _net(N):
    class Net(N.Module):
        def __init__(self):
            super().__init__()
            self.body = N.Sequential(N.Linear(3, 4), N.ReLU(), N.Dropout(0.1),
                                     N.Sequential(N.Linear(4, 4), N.Tanh()))
            self.heads = N.ModuleList([N.Linear(4, 2), N.Linear(4, 2, bias=False)])
            self.d = N.ModuleDict({"b": N.Identity(), "a": N.Flatten()})
            self.pl = N.ParameterList([N.Parameter(_zeros(N, 2)), N.Parameter(_zeros(N, 3, 2))])
            self.pd = N.ParameterDict({"y": N.Parameter(_zeros(N, 2)), "x": N.Parameter(_zeros(N, 1))})
            self.register_buffer("buf", _zeros(N, 3))
            self.register_buffer("tmp", _zeros(N, 3), persistent=False)
            self.shared = self.heads[0]  # the same module twice
            self.scale = N.Parameter(_zeros(N, 1))

        def forward(self, x):
            h = self.body(x)
            return self.heads[0](h) + self.heads[1](h) * self.scale + self.shared(h)
    return Net()


def _names(it):
    return [n for n, _ in it]


# --- registration and traversal ---------------------------------------------------------------
def test_traversal_matches_torch():
    e, t = _pair(_net)
    assert list(e.state_dict()) == list(t.state_dict())
    for fn in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert _names(getattr(e, fn)()) == _names(getattr(t, fn)()), fn
    for kw in ({"remove_duplicate": False}, {"prefix": "model"}):
        assert _names(e.named_parameters(**kw)) == _names(t.named_parameters(**kw))
        assert _names(e.named_modules(**kw)) == _names(t.named_modules(**kw))
    assert _names(e.named_parameters(recurse=False)) == _names(t.named_parameters(recurse=False)) == ["scale"]
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert len(list(e.children())) == len(list(t.children()))
    assert [type(m).__name__ for m in e.modules()] == [type(m).__name__ for m in t.modules()]
    assert len(list(e.buffers())) == 2 and _names(e.named_buffers()) == ["buf", "tmp"]


def test_forward_matches_torch():
    e, t = _pair(_net)
    e.eval(), t.eval()
    check_module(e, t, [(5, 3)])


def test_attribute_registration():
    m = nn.Module()
    m.w = nn.Parameter(ember.ones(2))
    m.sub = nn.Linear(2, 2)
    m.register_buffer("b", ember.zeros(2))
    m.plain = 3
    assert _names(m.named_parameters()) == ["w", "sub.weight", "sub.bias"]
    assert m.plain == 3 and "plain" not in m._parameters and m.b is m._buffers["b"]
    m.b = ember.ones(2)  # assigning a tensor to a buffer name replaces the buffer
    assert m._buffers["b"].numpy().tolist() == [1.0, 1.0]
    m.w = None
    assert "w" in m._parameters and m.w is None and _names(m.named_parameters()) == ["sub.weight", "sub.bias"]
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        m.w = ember.ones(2)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'sub'"):
        m.sub = 3
    m.sub = None
    assert m.sub is None and _names(m.named_modules()) == [""]
    del m.b
    assert "b" not in m._buffers
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nothing'"):
        m.nothing
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", ember.zeros(1))
    with pytest.raises(TypeError, match="ember.Tensor or None required"):
        m.register_buffer("x", np.zeros(2))
    with pytest.raises(KeyError, match="invalid parameter name"):
        m.register_parameter("a.b", None)
    # a Parameter replaces a same-named plain attribute; a parameter's name takes only Parameters
    m.plain = nn.Parameter(ember.ones(1))
    assert "plain" in m._parameters and "plain" not in m.__dict__
    with pytest.raises(TypeError, match="cannot assign 'ReLU' as parameter 'plain'"):
        m.plain = nn.ReLU()
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.add_module("plain", nn.ReLU())
    # re-assigning keeps the registration order (state_dict order), as torch
    m.q = nn.Parameter(ember.ones(1))
    m.plain = nn.Parameter(ember.zeros(1))
    assert list(m._parameters) == ["w", "plain", "q"]


def test_assign_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_get_submodule_parameter_buffer_and_dir():
    e, _ = _pair(_net)
    assert e.get_submodule("body.3.0") is e.body[3][0]
    assert e.get_parameter("body.3.0.bias") is e.body[3][0].bias
    assert e.get_buffer("buf") is e.buf
    with pytest.raises(AttributeError):
        e.get_submodule("body.9")
    assert {"body", "heads", "scale", "buf"} <= set(dir(e))


# --- modes and conversion ------------------------------------------------------------------------
def test_train_eval_propagation():
    e, t = _pair(_net)
    assert all(m.training for m in e.modules())
    assert e.eval() is e and not any(m.training for m in e.modules())
    e.body.train()
    assert e.body[3][1].training and not e.heads.training
    assert e.train() is e and all(m.training for m in e.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        e.train("yes")


@pytest.mark.parametrize("convert", ["double", "to_dtype", "to_kw", "half", "float"])
def test_to_dtype_keeps_parameter_identity(convert):
    e, _ = _pair(_net)
    e.register_buffer("count", ember.tensor(3))
    e(ember.randn(2, 3)).sum().backward()
    ids = {n: id(p) for n, p in e.named_parameters()}
    target = {"double": ember.float64, "to_dtype": ember.float64, "to_kw": ember.float16, "half": ember.float16,
              "float": ember.float32}[convert]
    out = {"double": lambda: e.double(), "to_dtype": lambda: e.to(ember.float64),
           "to_kw": lambda: e.to(dtype=ember.float16), "half": lambda: e.half(), "float": lambda: e.float()}[convert]()
    assert out is e
    assert {n: id(p) for n, p in e.named_parameters()} == ids
    for n, p in e.named_parameters():
        assert isinstance(p, nn.Parameter) and p.dtype == target and p.requires_grad and p.is_leaf, n
        assert p.grad is None or p.grad.dtype == target
    assert e.buf.dtype == target and e.count.dtype == ember.int64  # integer buffers are left alone
    x = ember.randn(2, 3).to(target)
    assert e(x).dtype == target


def test_to_rejects_integer_dtype_and_accepts_cpu():
    e = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="floating point"):
        e.to(ember.int64)
    assert e.to("cpu") is e and e.cpu() is e


def test_apply_order_and_zero_grad_requires_grad():
    e, t = _pair(_net)
    seen_e, seen_t = [], []
    assert e.apply(lambda m: seen_e.append(type(m).__name__)) is e
    t.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen_e == seen_t
    e(ember.randn(2, 3)).sum().backward()
    used = [p for n, p in e.named_parameters() if not n.startswith(("pl.", "pd."))]
    assert all(p.grad is not None for p in used)
    e.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in used)
    e.zero_grad()
    assert all(p.grad is None for p in e.parameters())
    assert e.requires_grad_(False) is e and not any(p.requires_grad for p in e.parameters())
    assert not e(ember.randn(2, 3)).requires_grad
    e.requires_grad_()
    assert all(p.requires_grad for p in e.parameters())


def test_apply_init_function():
    m = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))

    def init(mod):
        if isinstance(mod, nn.Linear):
            nn.init.constant_(mod.weight, 0.5)
            nn.init.zeros_(mod.bias)
    m.apply(init)
    assert (m[2].weight.detach().numpy() == 0.5).all() and not m[0].bias.detach().numpy().any()


def test_deepcopy_is_independent():
    e, _ = _pair(_net)
    c = copy.deepcopy(e)
    assert list(c.state_dict()) == list(e.state_dict())
    assert c.shared is c.heads[0]  # sharing survives the copy
    with ember.no_grad():
        c.body[0].weight.fill_(7.0)
    assert not (e.body[0].weight.detach().numpy() == 7.0).all()


# --- state_dict ------------------------------------------------------------------------------------
def test_state_dict_values_and_keep_vars():
    e, t = _pair(_net)
    sd = e.state_dict()
    assert isinstance(sd, OrderedDict)
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(sd[k].numpy(), v.numpy())
        assert not sd[k].requires_grad
    kv = e.state_dict(keep_vars=True)
    assert kv["scale"] is e.scale
    assert "tmp" not in sd  # non-persistent buffer
    assert list(e.state_dict(prefix="m.")) == ["m." + k for k in sd]


def test_load_state_dict_roundtrip_and_tensors():
    e, _ = _pair(_net)
    f, _ = _pair(_net)
    with ember.no_grad():
        for p in f.parameters():
            p.fill_(0.25)
    ids = [id(p) for p in e.parameters()]
    res = e.load_state_dict(f.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert [id(p) for p in e.parameters()] == ids  # copied in place
    assert all((p.detach().numpy() == 0.25).all() for p in e.parameters())


def _snapshot(m):
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


def test_load_state_dict_strict_errors_change_nothing():
    e, t = _pair(_net)
    before = _snapshot(e)
    sd = {k: v.detach().numpy() * 0 + 5 for k, v in t.state_dict().items()}
    sd.pop("body.0.bias")
    sd.pop("pd.x")
    sd["extra.weight"] = np.zeros(2, np.float32)
    sd["heads.1.weight"] = np.zeros((9, 9), np.float32)
    with pytest.raises(RuntimeError) as info:
        e.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "body.0.bias", "pd.x".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert ("size mismatch for heads.1.weight: copying a param with shape (9, 9) from checkpoint, the shape in "
            "current model is (2, 4).") in msg
    # torch reports the same three problems
    tsd = {k: torch.from_numpy(np.asarray(v)) for k, v in sd.items()}
    with pytest.raises(RuntimeError) as tinfo:
        t.load_state_dict(tsd)
    assert 'Missing key(s) in state_dict: "body.0.bias", "pd.x".' in str(tinfo.value)
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in str(tinfo.value)
    after = _snapshot(e)
    for k in before:
        np.testing.assert_array_equal(before[k], after[k], err_msg=k)


def test_load_state_dict_non_strict():
    e, t = _pair(_net)
    sd = {k: v.detach().numpy() for k, v in t.state_dict().items() if k != "scale"}
    sd["foo"] = np.zeros(1, np.float32)
    res_e = e.load_state_dict(sd, strict=False)
    res_t = t.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
    assert res_e.missing_keys == res_t.missing_keys == ["scale"]
    assert res_e.unexpected_keys == res_t.unexpected_keys == ["foo"]
    with pytest.raises(RuntimeError, match="size mismatch for scale"):
        e.load_state_dict({"scale": np.zeros(3, np.float32)}, strict=False)


def test_load_state_dict_accepts_torch_tensors_and_casts():
    e, t = _pair(_net)
    e.double()
    e.load_state_dict(t.state_dict())
    np.testing.assert_allclose(e.body[0].weight.detach().numpy(), t.body[0].weight.detach().numpy().astype(np.float64))
    assert e.body[0].weight.dtype == ember.float64


def test_non_persistent_buffers():
    m = nn.Module()
    m.register_buffer("a", ember.ones(2))
    m.register_buffer("b", ember.ones(2), persistent=False)
    assert list(m.state_dict()) == ["a"] and _names(m.named_buffers()) == ["a", "b"]
    m.load_state_dict({"a": np.zeros(2, np.float32)})
    with pytest.raises(RuntimeError, match='Unexpected key'):
        m.load_state_dict({"a": np.zeros(2, np.float32), "b": np.zeros(2, np.float32)})
    m.register_buffer("b", ember.ones(2))  # re-registering as persistent
    assert list(m.state_dict()) == ["a", "b"]
    m.register_buffer("c", None)
    assert "c" not in m.state_dict() and m.c is None
    m.d = nn.Buffer(ember.ones(1))
    assert "d" in m._buffers and list(m.state_dict()) == ["a", "b", "d"]


# --- hooks -------------------------------------------------------------------------------------------
def test_forward_hooks_match_torch():
    def run(N, T):
        m = N.Linear(3, 2)
        log = []
        h1 = m.register_forward_pre_hook(lambda mod, args: log.append(("pre", tuple(args[0].shape))))
        h2 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h3 = m.register_forward_hook(lambda mod, args, out: log.append(("post", tuple(out.shape))))
        h4 = m.register_forward_hook(lambda mod, args, out: out + 1)
        h5 = m.register_forward_pre_hook(lambda mod, args: log.append(("first",)), prepend=True)
        x = T.ones(4, 3)
        with T.no_grad():
            m.weight.fill_(1.0)
            m.bias.fill_(0.0)
        y = m(x)
        for h in (h1, h2, h3, h4, h5):
            h.remove()
        y2 = m(x)
        return log, y.detach().numpy(), y2.detach().numpy()
    le, ye, ye2 = run(nn, ember)
    lt, yt, yt2 = run(torch.nn, torch)
    assert le == lt == [("first",), ("pre", (4, 3)), ("post", (4, 2))]
    np.testing.assert_array_equal(ye, yt)  # input doubled, output + 1
    np.testing.assert_array_equal(ye2, yt2)


def test_hooks_with_kwargs_and_handle_context():
    class M(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    m = M()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {**kwargs, "scale": 3.0}), with_kwargs=True)
    seen = {}
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.update(kwargs=kwargs) or out * 2, with_kwargs=True)
    out = m(ember.ones(2), scale=5.0)
    assert out.numpy().tolist() == [6.0, 6.0] and seen["kwargs"] == {"scale": 3.0}
    with m.register_forward_hook(lambda mod, a, o: o + 100):
        assert m(ember.ones(1)).numpy().tolist() == [106.0]
    assert m(ember.ones(1)).numpy().tolist() == [6.0]


def test_pre_hook_returning_single_value():
    m = nn.Identity()
    m.register_forward_pre_hook(lambda mod, args: args[0] + 1)
    assert m(ember.zeros(2)).numpy().tolist() == [1.0, 1.0]


def test_missing_forward():
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(ember.ones(1))


# --- repr ---------------------------------------------------------------------------------------------
def _same_repr(e, t):
    assert repr(e) == repr(t).replace("torch.", "ember.")


def test_repr_nested_model():
    e, t = _pair(_net)
    _same_repr(e, t)


@pytest.mark.parametrize("build", [
    lambda N: N.Sequential(N.Linear(4, 8), N.ReLU(), N.Dropout(0.25), N.Linear(8, 2, bias=False), N.Softmax(dim=1)),
    lambda N: N.Sequential(OrderedDict([("fc", N.Linear(2, 3)), ("act", N.GELU()),
                                        ("inner", N.Sequential(N.Tanh(), N.Flatten(0))),
                                        ("drop", N.Dropout(inplace=True))])),
    lambda N: N.ModuleList([N.Linear(3, 3) for _ in range(4)] + [N.ReLU(), N.ReLU(), N.Sequential(N.Linear(3, 1))]),
    lambda N: N.ModuleList([N.Sequential(N.Linear(2, 2), N.ReLU()) for _ in range(3)]),
    lambda N: N.ModuleList(),
    lambda N: N.Sequential(),
    lambda N: N.ModuleDict({"enc": N.Linear(2, 2), "act": N.LeakyReLU(0.2, inplace=True)}),
    lambda N: N.Sequential(N.Embedding(10, 3, padding_idx=0), N.Flatten(), N.Linear(6, 2), N.PReLU(2),
                           N.ELU(alpha=0.5)),
    lambda N: N.ParameterList([N.Parameter(_zeros(N, 2, 3))]),
])
def test_repr_matches_torch(build):
    _same_repr(build(nn), build(torch.nn))


# --- containers -------------------------------------------------------------------------------------------
def _seq(N):
    return N.Sequential(N.Linear(2, 3), N.ReLU(), N.Linear(3, 4), N.Tanh(), N.Linear(4, 1))


def _kinds(mods):
    return [type(m).__name__ for m in mods]


def test_sequential_indexing_and_mutation():
    e, t = _seq(nn), _seq(torch.nn)
    assert len(e) == len(t) == 5
    assert _kinds(e) == _kinds(t)
    assert type(e[-1]).__name__ == "Linear" and e[-1] is e[4]
    for sl in (slice(1, 4), slice(None, None, 2), slice(-2, None), slice(None, None, -1)):
        es, ts = e[sl], t[sl]
        assert isinstance(es, nn.Sequential) and _kinds(es) == _kinds(ts)
        assert list(es._modules) == list(ts._modules)
    with pytest.raises(IndexError, match="out of range"):
        e[5]
    for s, N in ((e, nn), (t, torch.nn)):
        s.append(N.ReLU())
        s.insert(1, N.ELU())
        s.insert(-2, N.GELU())
        del s[0]
        del s[1:3]
        s[0] = N.Sigmoid()
        s.extend([N.SiLU()])
        s.pop(2)
    assert _kinds(e) == _kinds(t) and list(e._modules) == list(t._modules)
    with pytest.raises(IndexError, match="Index out of range"):
        e.insert(99, nn.ReLU())


def test_sequential_operators_and_forward():
    e, t = _seq(nn), _seq(torch.nn)
    assert _kinds(e + e) == _kinds(t + t) and len(e * 2) == 10 and len(2 * e) == 10
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential class"):
        e + [nn.ReLU()]
    with pytest.raises(ValueError, match="Non-positive multiplication factor"):
        e * 0
    f = _seq(nn)
    f += _seq(nn)
    assert len(f) == 10 and list(f._modules) == [str(i) for i in range(10)]
    f *= 2
    assert len(f) == 20
    e2, t2 = _pair(_seq)
    check_module(e2, t2, [(3, 2)])


def test_module_list():
    e, t = nn.ModuleList([nn.Linear(1, 1), nn.ReLU()]), torch.nn.ModuleList([torch.nn.Linear(1, 1), torch.nn.ReLU()])
    for m, N in ((e, nn), (t, torch.nn)):
        m.append(N.Tanh())
        m.extend([N.Sigmoid(), N.GELU()])
        m.insert(1, N.ELU())
        m += [N.SiLU()]
        del m[0]
        del m[::3]
        m[-1] = N.Softsign()
        m.pop(0)
    assert _kinds(e) == _kinds(t) and list(e._modules) == list(t._modules)
    assert _kinds(e[1:]) == _kinds(t[1:]) and isinstance(e[1:], nn.ModuleList)
    assert _kinds(e + e) == _kinds(t + t)
    with pytest.raises(IndexError, match="out of range"):
        e[10]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        e.extend(nn.ReLU())
    assert list(e.state_dict()) == []
    lin = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert _names(lin.named_parameters())[:2] == ["0.weight", "0.bias"]


def test_module_dict():
    def build(N):
        return N.ModuleDict({"b": N.Linear(2, 2), "a": N.ReLU()})
    e, t = build(nn), build(torch.nn)
    assert list(e) == list(t) == ["b", "a"] and list(e.keys()) == list(t.keys())
    for m, N in ((e, nn), (t, torch.nn)):
        m["c"] = N.Tanh()
        m.update([("d", N.ELU()), ("b", N.Sigmoid())])
        m.update(OrderedDict(z=N.GELU()))
        del m["a"]
        m.pop("d")
    assert list(e.keys()) == list(t.keys()) and _kinds(e.values()) == _kinds(t.values())
    assert "c" in e and "a" not in e and len(e) == len(t)
    assert [k for k, _ in e.items()] == [k for k, _ in t.items()]
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        e.update([("x", nn.ReLU(), 1)])
    e.clear()
    assert len(e) == 0


def test_parameter_list():
    def build(N, T):
        return N.ParameterList([N.Parameter(T.zeros(2)), T.ones(3)])
    e, t = build(nn, ember), build(torch.nn, torch)
    assert isinstance(e[1], nn.Parameter) and e[1].requires_grad  # plain tensors become Parameters
    for m, N, T in ((e, nn, ember), (t, torch.nn, torch)):
        m.append(T.ones(2, 2))
        m.extend([N.Parameter(T.zeros(1))])
        m += [T.zeros(4)]
        m[0] = T.full((5,), 2.0)
    assert len(e) == len(t) == 5
    assert [tuple(p.shape) for p in e] == [tuple(p.shape) for p in t]
    assert [tuple(p.shape) for p in e[1:4:2]] == [tuple(p.shape) for p in t[1:4:2]]
    assert list(e.state_dict()) == list(t.state_dict())
    assert _names(e.named_parameters()) == _names(t.named_parameters())
    assert e[-1] is e[4]
    _same_repr(e, t)
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        e(ember.ones(1))
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable"):
        e.extend(ember.ones(2))


def test_parameter_dict():
    def build(N, T):
        return N.ParameterDict({"b": N.Parameter(T.zeros(2)), "a": T.ones(3)})
    e, t = build(nn, ember), build(torch.nn, torch)
    assert list(e) == list(t) == ["a", "b"]  # a plain dict is inserted in sorted order, as torch
    for m, N, T in ((e, nn, ember), (t, torch.nn, torch)):
        m["z"] = T.zeros(1)
        m.update(OrderedDict([("y", T.ones(2)), ("c", N.Parameter(T.ones(1)))]))
        m.update([("x", T.zeros(3))])
        del m["a"]
        m.setdefault("w", T.ones(1))
        m.pop("z")
    assert list(e.keys()) == list(t.keys())
    assert list(e.state_dict()) == list(t.state_dict())
    assert [tuple(v.shape) for v in e.values()] == [tuple(v.shape) for v in t.values()]
    assert isinstance(e["y"], nn.Parameter) and "y" in e and "a" not in e and e.get("a") is None
    assert e.popitem()[0] == t.popitem()[0]
    _same_repr(e, t)
    merged = e | nn.ParameterDict(OrderedDict(q=ember.ones(1)))
    assert list(merged) == list(e) + ["q"]
    with pytest.raises(TypeError, match="cannot be used as a key"):
        e[3]
    e.clear()
    assert len(e) == 0


def test_shared_parameters_counted_once():
    e = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    e[1].weight = e[0].weight  # tied weights
    t = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 3))
    t[1].weight = t[0].weight
    assert _names(e.named_parameters()) == _names(t.named_parameters())
    assert list(e.state_dict()) == list(t.state_dict())  # state_dict keeps both names
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    check_module(e, t, [(2, 3)])
