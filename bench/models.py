"""The benchmark models, written once as plain PyTorch code and built in either library.

`lib` is the `ember` or the `torch` module; everything goes through its public API
(lib.nn, lib.nn.functional, lib.optim), so both frameworks run the same program.
"""
import numpy as np

MLP = dict(sizes=(784, 256, 256, 10), batch=128)
CNN = dict(channels=(32, 64), hidden=128, classes=10, image=(1, 28, 28), batch=64)
LM = dict(vocab=96, d_model=128, nhead=4, layers=2, dim_feedforward=512, seq=64, batch=16)


def mlp(lib, sizes=MLP["sizes"]):
    nn = lib.nn
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers)


def cnn(lib, channels=CNN["channels"], hidden=CNN["hidden"], classes=CNN["classes"]):
    nn, F = lib.nn, lib.nn.functional

    class CNN(nn.Module):
        """conv32-pool-conv64-pool-fc128-fc10 on 1x28x28."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, channels[0], 3, padding=1)
            self.conv2 = nn.Conv2d(channels[0], channels[1], 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc1 = nn.Linear(channels[1] * 7 * 7, hidden)
            self.fc2 = nn.Linear(hidden, classes)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            return self.fc2(F.relu(self.fc1(x.flatten(1))))

    return CNN()


def transformer_lm(lib, vocab=LM["vocab"], d_model=LM["d_model"], nhead=LM["nhead"], layers=LM["layers"],
                   dim_feedforward=LM["dim_feedforward"], context=LM["seq"]):
    nn = lib.nn

    class LM(nn.Module):
        """Token + position embeddings, causal TransformerEncoder (dropout 0), linear head."""

        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, d_model)
            self.pos = nn.Embedding(context, d_model)
            layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=dim_feedforward, dropout=0.0,
                                               batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.head = nn.Linear(d_model, vocab)
            self.mask = nn.Transformer.generate_square_subsequent_mask(context)
            self.positions = lib.arange(context)

        def forward(self, tokens):
            x = self.tok(tokens) + self.pos(self.positions)
            return self.head(self.encoder(x, mask=self.mask, is_causal=True))

    return LM()


# --- data and the training step -----------------------------------------------------------------
def data(kind, seed=0):
    """NumPy inputs and integer targets, the same arrays for every library."""
    rs = np.random.default_rng(seed)
    if kind == "mlp":
        return (rs.standard_normal((MLP["batch"], MLP["sizes"][0]), dtype=np.float32),
                rs.integers(0, MLP["sizes"][-1], MLP["batch"]))
    if kind == "cnn":
        return (rs.standard_normal((CNN["batch"], *CNN["image"]), dtype=np.float32),
                rs.integers(0, CNN["classes"], CNN["batch"]))
    tokens = rs.integers(0, LM["vocab"], (LM["batch"], LM["seq"]))
    return tokens, rs.integers(0, LM["vocab"], (LM["batch"], LM["seq"]))


BUILD = {"mlp": mlp, "cnn": cnn, "lm": transformer_lm}


def train_step(lib, kind, seed=0):
    """One AdamW step with cross-entropy: zero_grad, forward, loss, backward, step."""
    lib.manual_seed(seed)
    model = BUILD[kind](lib)
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3)
    F = lib.nn.functional
    x, y = (lib.from_numpy(a) for a in data(kind, seed))
    if kind == "lm":
        y = y.reshape(-1)

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]) if kind == "lm" else logits, y)
        loss.backward()
        opt.step()
    return step
