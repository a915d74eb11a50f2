"""A character-level transformer language model (GPT-style: causal self-attention, pre-norm).

Trains on examples/data/tiny_corpus.txt (~28 KB of English prose) and prints the loss and a
sample of generated text as it learns. The loss starts near ln(vocab) (a uniform guess) and
falls well below it as the model learns letters, then words.

    python examples/char_transformer_lm.py                 # 600 steps, about half a minute
    python examples/char_transformer_lm.py --steps 60      # a quick look

The last 10% of the text is held out: its loss shows how much is learned rather than memorized.
"""
import argparse
import math
import os
import time

import ember
import ember.nn.functional as F
from ember import nn

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tiny_corpus.txt")


class CharLM(nn.Module):
    def __init__(self, vocab_size, context, d_model=64, nhead=4, num_layers=2):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(context, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, 4 * d_model, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, idx):                       # (B, T) int64 -> (B, T, vocab) logits
        T = idx.shape[1]
        h = self.tok(idx) + self.pos(ember.arange(T))
        mask = nn.Transformer.generate_square_subsequent_mask(T)   # each position sees only its past
        return self.head(self.norm(self.blocks(h, mask=mask, is_causal=True)))

    @ember.no_grad()
    def generate(self, idx, n, temperature=0.8):
        for _ in range(n):
            logits = self(idx[:, -self.context:])[:, -1] / temperature
            idx = ember.cat([idx, ember.multinomial(F.softmax(logits, dim=-1), 1)], dim=1)
        return idx


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--context", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--sample-every", type=int, default=200)
    p.add_argument("--sample-chars", type=int, default=120)
    p.add_argument("--corpus", default=CORPUS)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    ember.manual_seed(args.seed)
    text = open(args.corpus, encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = ember.tensor([stoi[c] for c in text])
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    decode = lambda ids: "".join(chars[i] for i in ids)  # noqa: E731
    print(f"corpus: {len(text)} characters, vocab {len(chars)}, ln(vocab) = {math.log(len(chars)):.3f}")

    model = CharLM(len(chars), args.context)
    print(f"model: {sum(p.numel() for p in model.parameters())} parameters")
    opt = ember.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = ember.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    prompt = ember.tensor([[stoi[c] for c in "The "]])

    def batch(source, n):                                          # n random (context + 1)-long slices
        i = ember.randint(0, len(source) - args.context - 1, (n, 1))
        return source[i + ember.arange(args.context + 1)]

    def loss_of(window):
        return F.cross_entropy(model(window[:, :-1]).reshape(-1, len(chars)), window[:, 1:].reshape(-1))

    val_windows = batch(val_data, 128)

    @ember.no_grad()
    def val_loss():
        model.eval()
        loss = loss_of(val_windows).item()
        model.train()
        return loss

    def sample():
        model.eval()
        out = decode(model.generate(prompt, args.sample_chars)[0].tolist())
        model.train()
        return out.replace("\n", " ")

    print(f"held-out loss {val_loss():.3f}, sample before training: {sample()!r}")
    start, smooth = time.perf_counter(), None
    for step in range(1, args.steps + 1):
        loss = loss_of(batch(train_data, args.batch_size))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        smooth = loss.item() if smooth is None else 0.9 * smooth + 0.1 * loss.item()
        if step == 1 or step % 25 == 0 or step == args.steps:
            print(f"step {step:4d}  loss {loss.item():.3f}  (smoothed {smooth:.3f})  "
                  f"{time.perf_counter() - start:.1f}s", flush=True)
        if step % args.sample_every == 0 and step != args.steps:
            print(f"held-out loss {val_loss():.3f}, sample at step {step}: {sample()!r}")
    print(f"sample after training: {sample()!r}")
    print(f"final loss {smooth:.3f}, held-out loss {val_loss():.3f} (ln(vocab) = {math.log(len(chars)):.3f})")


if __name__ == "__main__":
    main()
