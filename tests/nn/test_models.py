"""Acceptance: models written the PyTorch way run on ember with `from ember import nn`.

Each model is defined once against a library (`ember` or `torch`), built in both, given torch's
weights through load_state_dict (same key names), then trained for 5 steps of hand-written SGD on
the same batches; the loss of every step, the final parameters and the trained model's eval-mode
outputs must agree.
"""
import numpy as np
import pytest

import ember
import ember.nn  # noqa: F401  (torch imports torch.nn with torch; `import ember` alone may not)
from helpers import assert_close, torch

STEPS, LR = 5, 0.1


# --- the models: plain PyTorch code, parameterised by the library --------------------------------
def small_cnn(lib):
    nn, F = lib.nn, lib.nn.functional

    class SmallCNN(nn.Module):
        def __init__(self, classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
            self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(8 * 2 * 2, classes)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))       # (N, 4, 4, 4)
            x = self.pool(F.relu(self.conv2(x)))       # (N, 8, 2, 2)
            return self.fc(x.flatten(1))

    return SmallCNN()


def lstm_tagger(lib):
    nn = lib.nn

    class LSTMTagger(nn.Module):
        def __init__(self, vocab=20, emb=8, hidden=12, tags=5):
            super().__init__()
            self.embedding = nn.Embedding(vocab, emb)
            self.lstm = nn.LSTM(emb, hidden, num_layers=2, batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * hidden, tags)

        def forward(self, tokens):
            h, _ = self.lstm(self.embedding(tokens))
            return self.head(h)

    return LSTMTagger()


def transformer_lm(lib):
    nn = lib.nn

    class TinyLM(nn.Module):
        def __init__(self, vocab=24, d_model=16, nhead=2, layers=2, context=8):
            super().__init__()
            self.tok = nn.Embedding(vocab, d_model)
            self.pos = nn.Embedding(context, d_model)
            layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=32, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.head = nn.Linear(d_model, vocab)

        def forward(self, tokens):
            T = tokens.shape[1]
            x = self.tok(tokens) + self.pos(lib.arange(T))
            mask = nn.Transformer.generate_square_subsequent_mask(T)
            return self.head(self.encoder(x, mask=mask, is_causal=True))

    return TinyLM()


# --- data and losses ------------------------------------------------------------------------------
def batches(kind, seed=0):
    """Two batches, alternated over the steps (so the last step's loss shows learning)."""
    rs = np.random.default_rng(seed)
    out = []
    for _ in range(2):
        if kind == "cnn":
            out.append((rs.standard_normal((6, 1, 8, 8)).astype(np.float32), rs.integers(0, 10, 6)))
        elif kind == "tagger":
            out.append((rs.integers(0, 20, (4, 7)), rs.integers(0, 5, (4, 7))))
        else:
            tokens = rs.integers(0, 24, (3, 8))
            out.append((tokens, tokens))
    return [out[i % 2] for i in range(STEPS)]


def loss_fn(lib, kind, model, x, y):
    F = lib.nn.functional
    logits = model(x)
    if kind == "cnn":
        return F.cross_entropy(logits, y)
    if kind == "tagger":
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), y[:, 1:].reshape(-1))


def train(lib, kind, model, data):
    """Plain SGD written by hand (no optimizer library)."""
    losses = []
    for x, y in data:
        model.zero_grad()
        loss = loss_fn(lib, kind, model, lib.from_numpy(x.copy()), lib.from_numpy(y.copy()))
        loss.backward()
        with lib.no_grad():
            for p in model.parameters():
                p -= LR * p.grad
        losses.append(loss.item())
    return losses


MODELS = {"cnn": small_cnn, "tagger": lstm_tagger, "lm": transformer_lm}


@pytest.mark.parametrize("kind", list(MODELS))
def test_train_like_torch(kind):
    torch.manual_seed(0)
    t_model = MODELS[kind](torch)
    e_model = MODELS[kind](ember)
    sd = {k: v.detach().numpy().copy() for k, v in t_model.state_dict().items()}
    assert list(e_model.state_dict()) == list(sd)
    e_model.load_state_dict(sd)

    data = batches(kind)
    t_losses = train(torch, kind, t_model, data)
    e_losses = train(ember, kind, e_model, data)
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-4, err_msg=f"{kind}: loss per step")
    assert t_losses[-1] < t_losses[0]  # it learns: steps 0 and 4 see the same batch

    e_params = dict(e_model.named_parameters())
    for name, tp in t_model.named_parameters():
        assert_close(e_params[name], tp, 1e-4, 1e-5, f"{kind}: parameter {name} after {STEPS} steps")

    x = data[0][0]
    e_model.eval(), t_model.eval()
    with ember.no_grad(), torch.no_grad():
        assert_close(e_model(ember.from_numpy(x.copy())), t_model(torch.from_numpy(x.copy())), 1e-4, 1e-5,
                     f"{kind}: eval output after training")
