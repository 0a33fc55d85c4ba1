#!/usr/bin/env python3
"""case-vae.py: the dense VAE of vae-elbo, trained with PyTorch, for the speed comparison.

The same model, data and hyperparameters as `vae-elbo --train --model dense`:
784-400-(2L) encoder (mu and log-variance side by side, as one Linear layer), L-400-784
decoder ending in logits, ReLU; loss = BCE-with-logits summed over pixels and batch + KL;
Adam (lr 1e-3, epsilon 1e-7 as in Keras and this repository); batch 128; Glorot-uniform
weights and zero biases; one thread. Training time per epoch leaves out the test pass.

    python3 bench/case-vae.py --epochs 2 --latent 20 --seed 42 [--data DIR] [--threads 1]

Progress goes to stderr (unless --quiet); the results go to stdout as `key<TAB>value` lines,
the keys of bench/run.sh's protocol: seconds_per_epoch is training only, the test pass left
out, as `vae-elbo` times it; seconds_total is the whole loop, test passes included; test_loss
is minus the test ELBO, nats per image.
"""
import argparse
import os
import resource
import sys
import time

from torch_common import load_fashion_mnist, report, set_threads_before_import

# numpy and torch are imported in main(), once the thread count is known: OpenBLAS, which
# Debian's numpy and torch multiply with, reads OPENBLAS_NUM_THREADS when it loads, and
# torch.set_num_threads() alone leaves its threads running (a "1-thread" run then kept a second
# core busy, in user and system time).
torch = F = nn = None


def find_data(option):
    """--data, else $FASHION_MNIST_DIR, else data/fashion-mnist in the repository."""
    if option:
        return option
    if os.environ.get("FASHION_MNIST_DIR"):
        return os.environ["FASHION_MNIST_DIR"]
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "fashion-mnist")


def build_model(latent, hidden=400):
    """The dense VAE, as a class defined once torch is imported."""

    class DenseVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.latent = latent
            self.enc_hidden = nn.Linear(784, hidden)
            self.enc_out = nn.Linear(hidden, 2 * latent)       # [mu | log sigma^2]
            self.dec_hidden = nn.Linear(latent, hidden)
            self.dec_out = nn.Linear(hidden, 784)              # logits
            for layer in (self.enc_hidden, self.enc_out, self.dec_hidden, self.dec_out):
                nn.init.xavier_uniform_(layer.weight)          # Glorot-uniform, as Keras and model_build
                nn.init.zeros_(layer.bias)

        def forward(self, x):
            out = self.enc_out(F.relu(self.enc_hidden(x)))
            mu, logvar = out[:, : self.latent], out[:, self.latent :]
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)   # z = mu + sigma * eps
            return self.dec_out(F.relu(self.dec_hidden(z))), mu, logvar

    return DenseVAE()


def vae_loss(logits, x, mu, logvar):
    """Summed BCE over pixels and batch + KL(q || N(0, I)) summed: minus the batch's ELBO."""
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kl, bce, kl


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--latent", type=int, default=20)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", default=None)
    parser.add_argument("--quiet", action="store_true", help="no line per epoch on stderr")
    args = parser.parse_args()
    if args.threads < 1 or args.epochs < 1 or args.latent < 1:
        sys.exit("case-vae.py: --threads, --epochs and --latent must be at least 1")

    global torch, F, nn
    set_threads_before_import()
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    folder = find_data(args.data)
    train, test = (torch.from_numpy(images.reshape(-1, 784))
                   for images in load_fashion_mnist(folder, "case-vae.py"))

    model = build_model(args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-7)
    seconds = []
    started = time.perf_counter()
    for epoch in range(args.epochs):
        epoch_start = time.perf_counter()
        model.train()
        order = torch.randperm(train.shape[0])
        total = 0.0
        for start in range(0, train.shape[0], args.batch):
            x = train[order[start : start + args.batch]]
            logits, mu, logvar = model(x)
            loss, _, _ = vae_loss(logits, x, mu, logvar)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        seconds.append(time.perf_counter() - epoch_start)

        model.eval()
        test_loss = test_bce = test_kl = 0.0
        with torch.no_grad():
            for start in range(0, test.shape[0], args.batch):
                x = test[start : start + args.batch]
                logits, mu, logvar = model(x)
                loss, bce, kl = vae_loss(logits, x, mu, logvar)
                test_loss += loss.item()
                test_bce += bce.item()
                test_kl += kl.item()
        n = test.shape[0]
        if not args.quiet:
            print(f"pytorch dense VAE  epoch {epoch + 1}/{args.epochs}  train loss {total / train.shape[0]:.3f}  "
                  f"test loss {test_loss / n:.3f} (BCE {test_bce / n:.3f}, KL {test_kl / n:.3f})  "
                  f"{seconds[-1]:.2f} s", file=sys.stderr, flush=True)
    total_seconds = time.perf_counter() - started

    report(torch, model, f"dense VAE 784-400-{args.latent}", args.epochs, total_seconds)
    print(f"seconds_per_epoch\t{sum(seconds) / len(seconds):.4f}")
    print(f"test_loss\t{test_loss / n:.6f}")
    print(f"test_recon\t{-test_bce / n:.6f}")
    print(f"test_kl\t{test_kl / n:.6f}")
    print(f"peak_rss_mib\t{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0:.1f}")


if __name__ == "__main__":
    main()
