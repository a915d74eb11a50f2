"""The backward engine: walk the graph from the outputs, call each node's rule.

Nodes run in an order where every node has received all its incoming gradients
first (Kahn's algorithm over the reachable subgraph, newest node first among
the ready ones). Gradients flowing to a leaf are accumulated into ``.grad``
(or captured, for ``autograd.grad``).
"""
from __future__ import annotations

import heapq
from sys import getrefcount as _refcount

import numpy as np

from .grad_mode import STATE
from .. import _tensor as T


def saved_version_record(tensors):
    out = []
    for t in tensors:
        if isinstance(t, T.Tensor):
            c = T._counter(t)
            out.append((c, c[0], t, None))
    return out


def _check_versions(node):
    for counter, seen, t, op in node.saved_versions or ():
        if counter[0] != seen:
            what = f"[{T._dt._BY_NP[t._data.dtype] if t is not None else 'tensor'}" \
                   f"{list(t._data.shape) if t is not None else ''}]"
            raise RuntimeError(
                f"ember.autograd: one of the tensors needed for gradient computation has been modified "
                f"by an inplace operation: {what} saved by {node.name} is at version {counter[0]}; "
                f"expected version {seen} instead")


def _as_grad(g, like, what):
    if g is None:
        d = like._data
        return T._wrap(np.ones(d.shape, d.dtype))
    if not isinstance(g, T.Tensor):
        g = T._wrap(np.asarray(g, dtype=like._data.dtype))
    if g._data.shape != like._data.shape:
        raise RuntimeError(f"ember.autograd.{what}: mismatch in shape: grad has shape "
                           f"{tuple(g._data.shape)} but the output has shape {tuple(like._data.shape)}")
    return g


def _roots(tensors, grads, what):
    if isinstance(tensors, T.Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grads is None or isinstance(grads, T.Tensor):
        grads = (grads,) * len(tensors) if grads is None else (grads,)
    grads = tuple(grads)
    if len(grads) != len(tensors):
        raise RuntimeError(f"ember.autograd.{what}: got {len(grads)} gradients for {len(tensors)} outputs")
    roots = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if t._base is not None:
            T._refresh_view(t)
        if not t._rg:
            raise RuntimeError(f"ember.autograd.{what}: element {i} of tensors does not require grad "
                               f"and does not have a grad_fn")
        if g is None and t._data.size != 1:
            raise RuntimeError(f"ember.autograd.{what}: grad can be implicitly created only for scalar "
                               f"outputs (output {i} has shape {tuple(t._data.shape)})")
        roots.append((t, _as_grad(g, t, what)))
    return roots


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into each leaf's ``.grad``."""
    t = tensors
    if grad_tensors is None and t.__class__ is T.Tensor and t._rg and t._base is None and t._data.size == 1:
        d = t._data  # the common case, loss.backward(): skip the general argument handling
        roots = ((t, T._wrap(np.ones(d.shape, d.dtype))),)
    else:
        roots = _roots(tensors, grad_tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    targets = None
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, T.Tensor) else tuple(inputs)
        targets = {_key(t): t for t in inputs}
    _run(roots, retain_graph, create_graph, targets, capture=None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any ``.grad``."""
    single = isinstance(inputs, T.Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    for i, t in enumerate(inputs):
        if not t._rg:
            raise RuntimeError(f"ember.autograd.grad: input {i} does not require grad")
    roots = _roots(outputs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    targets = {_key(t): t for t in inputs}
    capture = {}
    _run(roots, retain_graph, create_graph, targets, capture)
    result = []
    for i, t in enumerate(inputs):
        g = capture.get(_key(t))
        if g is None:
            if materialize_grads:
                g = T._wrap(np.zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(f"ember.autograd.grad: input {i} was not used in the graph; "
                                   f"pass allow_unused=True if this is intended")
        result.append(g)
    return tuple(result)


def _key(t):
    return id(t) if t._node is None else (id(t._node), t._idx)


def _reachable(roots, targets):
    """Dependency counts of the nodes reachable from the roots (keyed by node); with
    targets, also the set of nodes on a path to a target."""
    deps = {t._node: 0 for t, _ in roots if t._node is not None}
    stack = list(deps)
    while stack:  # iterative DFS: graphs of long RNNs are deep
        node = stack.pop()
        for e in node.edges:
            if e is not None and e.__class__ is tuple:
                nxt = e[0]
                c = deps.get(nxt)
                if c is None:
                    deps[nxt] = 1
                    stack.append(nxt)
                else:
                    deps[nxt] = c + 1
    needed = None
    if targets is not None:
        needed = set()
        # an input node is always older than its consumer: in creation order, a node's
        # inputs are decided before it
        for node in sorted(deps, key=lambda n: n.seq):
            for e in node.edges:
                if e is None:
                    continue
                if e.__class__ is tuple:
                    if e[0] in needed or (id(e[0]), e[1]) in targets:
                        needed.add(node)
                        break
                elif id(e) in targets:
                    needed.add(node)
                    break
    return deps, needed


def _run(roots, retain_graph, create_graph, targets, capture):
    prev = STATE.enabled
    STATE.enabled = bool(create_graph)
    try:
        _execute(roots, retain_graph, create_graph, targets, capture)
    finally:
        STATE.enabled = prev


def _execute(roots, retain_graph, create_graph, targets, capture):
    deps, needed = _reachable(roots, targets)
    buffers = {}   # node -> [grad per output]
    for t, g in roots:
        if t._node is None:
            _to_leaf(t, g, targets, capture, create_graph)
        else:
            _add_to_buffer(buffers, t._node, t._idx, g)
    ready = [(-n.seq, n) for n in buffers if deps[n] == 0]
    heapq.heapify(ready)
    pop, push = heapq.heappop, heapq.heappush
    while ready:
        node = pop(ready)[1]
        grads = buffers.pop(node, None)
        if grads is not None:
            if node.hooks:
                _run_output_hooks(node, grads)
            if capture is not None:
                nid = id(node)
                for idx, g in enumerate(grads):
                    if g is not None and (nid, idx) in targets:
                        capture[(nid, idx)] = g
            if needed is None or node in needed:
                in_grads = _call_backward(node, grads)
                edges, shapes, dtypes = node.edges, node.shapes, node.dtypes
                for i in range(min(len(in_grads), len(edges))):  # no enumerate: its cached
                    gi = in_grads[i]                                  # tuple would hold a ref to gi
                    if gi is None:
                        continue
                    e = edges[i]
                    if e is None:
                        continue
                    d = gi._data if gi.__class__ is T.Tensor else None
                    if d is None or d.shape != shapes[i] or d.dtype != dtypes[i]:
                        gi = _fit(gi, shapes[i], dtypes[i])
                    if e.__class__ is tuple:
                        _add_to_buffer(buffers, e[0], e[1], gi)
                    else:
                        # a gradient only this loop refers to (the variable and in_grads) becomes
                        # .grad without a copy, as PyTorch's AccumulateGrad steals unshared grads
                        d = gi._data
                        # references: in_grads, gi, the call's argument (and gi._data for d)
                        steal = _refcount(gi) <= 3 and _refcount(d) <= 3 and d.base is None
                        _to_leaf(e, gi, targets, capture, create_graph, steal)
        for e in node.edges:
            if e is not None and e.__class__ is tuple:
                nxt = e[0]
                c = deps[nxt] - 1
                deps[nxt] = c
                if c == 0:
                    push(ready, (-nxt.seq, nxt))
        if not retain_graph:
            node.inputs = node.out_data = None
            node.saved = ()
            node.freed = True


def _run_output_hooks(node, grads):
    for idx, hooks in node.hooks.items():
        if idx >= 0 and grads[idx] is not None:
            for h in hooks:
                r = h(grads[idx])
                if r is not None:
                    grads[idx] = r


def _call_backward(node, grads):
    if node.freed:
        raise RuntimeError(f"ember.autograd: trying to backward through the graph a second time "
                           f"({node.name}): its saved tensors were freed. Pass retain_graph=True to "
                           f"the first backward call if you need to")
    if node.saved_versions:
        _check_versions(node)
    if node.n_out > 1:
        grads = [g if g is not None else T._wrap(np.zeros(*node.out_meta[i]))
                 for i, g in enumerate(grads)]
    out = node.op.backward(node, *grads)
    if not isinstance(out, tuple):
        out = (out,)
    if node.hooks and -1 in node.hooks:  # hooks registered on the node itself
        for h in node.hooks[-1]:
            r = h(out, tuple(grads))
            if r is not None:
                out = tuple(r)
    return out


def _fit(g, shape, dtype):
    """Sum a broadcast gradient back to its input's shape; cast it to its dtype."""
    if not isinstance(g, T.Tensor):
        g = T._wrap(np.asarray(g))
    if g._data.shape != shape:
        g = g.sum_to_size(shape)
    if g._data.dtype != dtype:
        g = g.to(T._dt._BY_NP[dtype])
    return g


def _add_to_buffer(buffers, node, idx, g):
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * node.n_out
    prev = buf[idx]
    if prev is None:
        buf[idx] = g
    elif STATE.enabled:  # create_graph: the sum must be recorded
        buf[idx] = prev + g
    elif not _sum_in_place(prev, g, 4, 3):
        if _sum_in_place(g, prev, 5, 4):
            buf[idx] = g
        else:
            buf[idx] = prev + g


def _sum_in_place(acc, other, refs, array_refs):
    """``acc += other`` in place if no one else can see ``acc`` (a residual connection's two
    gradients: one array written, none allocated). ``refs`` / ``array_refs``: how many
    references the engine's own frames hold to ``acc`` / its array at this point (buffer list
    or backward output tuple, locals, arguments); any more means someone else holds it."""
    d = acc._data if acc.__class__ is T.Tensor else None
    o = other._data if other.__class__ is T.Tensor else None
    if (d is None or o is None or _refcount(acc) > refs or _refcount(d) > array_refs or d.base is not None
            or o.shape != d.shape or o.dtype != d.dtype or not d.flags.writeable or np.may_share_memory(d, o)):
        return False
    np.add(d, o, out=d)
    return True


def _to_leaf(t, g, targets, capture, create_graph, steal=False):
    key = id(t)
    if targets is not None and key not in targets:
        return
    hooks = getattr(t, "_hooks", None)
    if hooks:
        steal = False  # a hook may keep a reference to g
        for h in hooks:
            r = h(g)
            if r is not None:
                g = r
    if capture is not None:
        prev = capture.get(key)
        capture[key] = g if prev is None else prev + g
        return
    if t.grad is None:
        t.grad = g if create_graph or steal else T._wrap(np.array(g._data, copy=True))
    elif create_graph or t.grad._rg or not t.grad._data.flags.writeable:
        t.grad = t.grad + g  # out of place (a grad kept from create_graph may be a read-only view)
    else:
        t.grad._data += g._data
