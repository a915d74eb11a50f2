"""The TensorBoard protos Ember writes; importing this module is the one place the optional
``tensorboard`` dependency is loaded."""
try:
    from tensorboard.compat.proto import (attr_value_pb2, event_pb2, graph_pb2, node_def_pb2,  # noqa: F401
                                          summary_pb2, tensor_pb2, tensor_shape_pb2, versions_pb2)
    from tensorboard.plugins.hparams import api_pb2 as hparams_api_pb2  # noqa: F401
    from tensorboard.plugins.hparams import plugin_data_pb2 as hparams_pb2  # noqa: F401
    from tensorboard.plugins.text import plugin_data_pb2 as text_pb2  # noqa: F401
except ImportError as e:
    raise ImportError("ember.tensorboard needs the 'tensorboard' package: pip install ember[tensorboard]"
                      f" ({e})") from e
