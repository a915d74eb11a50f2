"""The digits CNN of digits_cnn_fit.py, trained with a plain PyTorch-style loop: a DataLoader,
``loss.backward()``, ``optimizer.step()``, an LR scheduler, and evaluation under ``no_grad``.

    python examples/digits_cnn_manual_loop.py --epochs 12

Replace ``ember`` with ``torch`` (and ``ember.data`` with ``torch.utils.data``) and it runs on PyTorch.
"""
import argparse

import ember
import ember.nn.functional as F
from ember import nn
from ember.data import DataLoader, TensorDataset
from ember.data.datasets import load_digits


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


@ember.no_grad()
def evaluate(model, loader):
    model.eval()
    total_loss, correct, n = 0.0, 0, 0
    for x, y in loader:
        logits = model(x)
        total_loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
        n += len(y)
    return total_loss / n, correct / n


def main(argv=None):
    p = argparse.ArgumentParser(description="digits CNN with a PyTorch-style training loop")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    ember.manual_seed(args.seed)
    train, test = load_digits().train_test_split(0.2, stratify=True, generator=ember.Generator().manual_seed(args.seed))
    train_loader = DataLoader(TensorDataset(train.data.unsqueeze(1), train.targets), batch_size=args.batch_size,
                              shuffle=True)
    test_loader = DataLoader(TensorDataset(test.data.unsqueeze(1), test.targets), batch_size=256)

    model = make_model()
    optimizer = ember.optim.AdamW(model.parameters(), lr=args.lr)
    scheduler = ember.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    for epoch in range(args.epochs):
        model.train()
        running, seen = 0.0, 0
        for x, y in train_loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running, seen = running + loss.item() * len(y), seen + len(y)
        scheduler.step()
        test_loss, test_acc = evaluate(model, test_loader)
        print(f"epoch {epoch + 1:2d}/{args.epochs}  train loss {running / seen:.4f}  "
              f"test loss {test_loss:.4f}  test accuracy {test_acc:.4f}", flush=True)
    print(f"test accuracy {test_acc:.4f}")


if __name__ == "__main__":
    main()
