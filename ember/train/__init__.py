"""``ember.train``: Keras-style ``fit`` / ``evaluate`` / ``predict`` with callbacks and streaming metrics.

    from ember.train import Trainer, EarlyStopping, ModelCheckpoint
    history = Trainer(model, optimizer="adamw", loss="cross_entropy", metrics=["accuracy"]).fit(
        x, y, epochs=10, validation_split=0.2, callbacks=[EarlyStopping(patience=2)])

``model.fit(...)`` / ``model.evaluate(...)`` / ``model.predict(...)`` on any ``ember.nn.Module``
do the same through a Trainer kept on the model.
"""
from . import metrics  # noqa: F401
from .callbacks import (Callback, CallbackList, CSVLogger, EarlyStopping, History, LambdaCallback,  # noqa: F401
                        LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN)
from .checkpoint import ModelCheckpoint  # noqa: F401
from .progress import ProgressBar  # noqa: F401
from .resolve import LOSSES, OPTIMIZERS  # noqa: F401
from .tensorboard_logger import TensorBoard  # noqa: F401
from .trainer import Trainer  # noqa: F401

__all__ = ["Trainer", "Callback", "CallbackList", "History", "ProgressBar", "EarlyStopping", "ModelCheckpoint",
           "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger", "TensorBoard", "LambdaCallback",
           "TerminateOnNaN", "metrics", "LOSSES", "OPTIMIZERS"]
