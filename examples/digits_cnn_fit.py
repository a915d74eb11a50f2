"""A small CNN on scikit-learn's 8x8 digits, trained with Keras-style ``model.fit``.

    python examples/digits_cnn_fit.py --epochs 12     # ~98% test accuracy in seconds

Needs scikit-learn (pip install -e ".[demo]"). The same model with a PyTorch-style loop:
examples/digits_cnn_manual_loop.py.
"""
import argparse

import ember
from ember import nn
from ember.data.datasets import load_digits
from ember.train import EarlyStopping, LearningRateScheduler


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 1x8x8 -> 32x4x4
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # -> 64x2x2
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def main(argv=None):
    p = argparse.ArgumentParser(description="digits CNN with model.fit")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    ember.manual_seed(args.seed)
    train, test = load_digits().train_test_split(0.2, stratify=True, generator=ember.Generator().manual_seed(args.seed))
    x, y = train.data.unsqueeze(1), train.targets            # (N, 1, 8, 8) in [0, 1], labels 0-9
    x_test, y_test = test.data.unsqueeze(1), test.targets

    model = make_model()
    history = model.fit(x, y, optimizer="adamw", lr=args.lr, loss="cross_entropy", metrics=["accuracy"],
                        epochs=args.epochs, batch_size=args.batch_size, validation_split=0.1,
                        callbacks=[LearningRateScheduler(ember.optim.lr_scheduler.CosineAnnealingLR, T_max=args.epochs),
                                   EarlyStopping(monitor="val_accuracy", patience=4, restore_best_weights=True)])
    print("final epoch:", {k: round(v[-1], 4) for k, v in history.history.items()})
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}  test accuracy {acc:.4f}")
    print("predictions for the first 10 test digits:", model.predict(x_test[:10]).argmax(1).tolist())
    print("true labels:                           ", y_test[:10].tolist())


if __name__ == "__main__":
    main()
