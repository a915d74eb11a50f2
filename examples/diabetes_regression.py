"""MLP regression on scikit-learn's diabetes data (442 patients, 10 features): MSE loss,
standardized targets, R^2 on a held-out test split.

    python examples/diabetes_regression.py --epochs 100

Needs scikit-learn (pip install -e ".[demo]"). Least squares reaches R^2 0.50 on this split and
the MLP about the same: a real, noisy regression problem where more capacity does not help.
"""
import argparse

import ember
from ember import nn
from ember.data.datasets import load_diabetes


def r2_score(y, pred):
    return 1.0 - ((y - pred) ** 2).sum().item() / ((y - y.mean()) ** 2).sum().item()


def main(argv=None):
    p = argparse.ArgumentParser(description="MLP regression on the diabetes data")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    ember.manual_seed(args.seed)
    train, test = load_diabetes().train_test_split(0.2, generator=ember.Generator().manual_seed(args.seed))
    x, x_test = train.data, test.data
    # standardize features and target with the training split's statistics
    mean, std = x.mean(0), x.std(0)
    x, x_test = (x - mean) / std, (x_test - mean) / std
    y_mean, y_std = train.targets.mean(), train.targets.std()
    y = ((train.targets - y_mean) / y_std).unsqueeze(1)

    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1))
    model.fit(x, y, optimizer="adamw", lr=args.lr, loss="mse", epochs=args.epochs, batch_size=args.batch_size,
              verbose=0)
    pred = model.predict(x_test).squeeze(1) * y_std + y_mean
    train_pred = model.predict(x).squeeze(1) * y_std + y_mean
    print(f"train R2 {r2_score(train.targets, train_pred):.3f}")
    print(f"test MSE {((pred - test.targets) ** 2).mean().item():.1f}  test R2 {r2_score(test.targets, pred):.3f}")


if __name__ == "__main__":
    main()
