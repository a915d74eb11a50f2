"""A module tree as a TensorBoard ``GraphDef``.

Every module becomes a name scope (``Net/Sequential[features]/Conv2d[0]``, torch's naming), each
parameter and buffer a node in its module's scope, and each leaf module an op node (op = its class
name). Edges follow the data: with ``input_to_model`` the model runs once (eval mode, no grad) under
forward hooks that record which leaf produced each tensor a leaf consumes; without it, leaves are
chained in registration order. Only the model (duck-typed: ``named_modules``, ``named_parameters``,
optionally ``named_buffers``/``register_forward_hook``) is needed.
"""
from ._proto import attr_value_pb2, graph_pb2, node_def_pb2, tensor_shape_pb2, versions_pb2

AttrValue, Shape = attr_value_pb2.AttrValue, tensor_shape_pb2.TensorShapeProto


def _tensors(obj):
    """The tensors in a nested output (tuples, lists, dicts), in order."""
    if isinstance(obj, (tuple, list)):
        for o in obj:
            yield from _tensors(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors(o)
    elif hasattr(obj, "shape") and hasattr(obj, "dtype"):
        yield obj


def _shapes(tensors):
    return AttrValue(list=AttrValue.ListValue(shape=[Shape(dim=[Shape.Dim(size=int(d)) for d in t.shape])
                                                     for t in tensors]))


def _text(s):
    return AttrValue(s=str(s).encode("utf-8"))


def _dtype(t):
    return str(getattr(t.dtype, "name", t.dtype)).rpartition(".")[2]


def model_graph(model, input_to_model=None):
    modules = list(model.named_modules())
    root = type(model).__name__
    scopes, parents = {}, set()
    for name, m in modules:  # pre-order: a parent's scope exists before its children's
        parent, _, last = name.rpartition(".")
        if name:
            parents.add(parent)
        scopes[name] = f"{scopes[parent]}/{type(m).__name__}[{last}]" if name else root
    nodes, held = {}, {}  # node name -> NodeDef; module name -> its parameter/buffer node names

    def add(name, op, inputs=(), **attrs):
        nodes[name] = node_def_pb2.NodeDef(name=name, op=op, input=list(dict.fromkeys(inputs)), attr=attrs)
        return name

    for kind, getter in (("Parameter", "named_parameters"), ("Buffer", "named_buffers")):
        for pname, p in getattr(model, getter, lambda: ())():
            if p is not None:
                mname, _, attr = pname.rpartition(".")
                scope = scopes.get(mname, "/".join([root] + mname.split(".")))
                held.setdefault(mname, []).append(add(f"{scope}/{attr}", kind, dtype=_text(_dtype(p)),
                                                      _output_shapes=_shapes([p])))
    leaves = [(n, m) for n, m in modules if n not in parents]

    def op_node(n, m, inputs, calls=0, outs=None):
        base = scopes[n] + "/forward" if held.get(n) else scopes[n]  # the scope is taken by its params
        attrs = {"module": _text(n or root)}
        extra = m.extra_repr() if callable(getattr(m, "extra_repr", None)) else ""
        if extra:
            attrs["extra_repr"] = _text(extra)
        if outs is not None:
            attrs["_output_shapes"] = _shapes(outs)
        return add(base if calls == 0 else f"{base}_{calls}", type(m).__name__, list(inputs) + held.get(n, []),
                   **attrs)

    if input_to_model is None:
        prev = []
        for n, m in leaves:
            prev = [op_node(n, m, prev)]
    else:
        _traced(model, input_to_model, modules, leaves, add, op_node)
    return graph_pb2.GraphDef(node=list(nodes.values()), versions=versions_pb2.VersionDef(producer=22))


def _traced(model, input_to_model, modules, leaves, add, op_node):
    from .. import no_grad
    args = tuple(input_to_model) if isinstance(input_to_model, (tuple, list)) else (input_to_model,)
    producer, keep, calls = {}, [], []  # keep: recorded tensors stay alive so their id()s stay unique
    for i, t in enumerate(_tensors(args)):
        producer[id(t)] = add(f"input/input.{i}", "IO Node", dtype=_text(_dtype(t)), _output_shapes=_shapes([t]))
        keep.append(t)
    leaf_of = {id(m): (n, m) for n, m in leaves}

    def hook(m, inputs, output):
        ins, outs = list(_tensors(inputs)), list(_tensors(output))
        keep.extend(ins + outs)
        calls.append((leaf_of[id(m)], ins, outs))
    handles = [m.register_forward_hook(hook) for _, m in leaves if hasattr(m, "register_forward_hook")]
    modes = [(m, m.training) for _, m in modules if hasattr(m, "training")]
    try:
        for m, _ in modes:  # eval: the trace must not update BatchNorm statistics or draw dropout masks
            m.training = False
        with no_grad():
            out = model(*args)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    prev, count = list(producer.values())[-1:], {}
    for (n, m), ins, outs in calls:
        srcs = [producer[id(t)] for t in ins if id(t) in producer] or prev  # else: made by a functional op
        name = op_node(n, m, srcs, count.get(n, 0), outs)
        count[n] = count.get(n, 0) + 1
        producer.update((id(t), name) for t in outs)
        prev = [name]
    for n, m in leaves:  # modules the forward never called still belong to the tree
        if n not in count:
            op_node(n, m, ())
    for i, t in enumerate(_tensors(out)):
        src = [producer[id(t)]] if id(t) in producer else prev
        add(f"output/output.{i}", "IO Node", src, dtype=_text(_dtype(t)), _output_shapes=_shapes([t]))
