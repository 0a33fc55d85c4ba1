#!/usr/bin/env python3
"""torch_ae.py: Task 4's model A or B trained with PyTorch, the reference `make bench` compares with.

The same task as bench_train: the Fashion-MNIST IDX files (.gz), pixels / 255, MSE, Adam with
Keras' defaults (lr 1e-3, betas 0.9 and 0.999, epsilon 1e-7), batch 32, a new shuffle every
epoch, validation on the 10,000 test images after every epoch (in batches of 32, as Keras
does), Glorot-uniform weights and zero biases. It is written as a PyTorch user would write it:
the images become one float tensor, and the layers are torch.nn modules.

Progress goes to stderr; the results go to stdout as "key<TAB>value" lines, the keys
bench_train prints.
"""
import argparse
import os
import resource
import sys
import time



from torch_common import load_fashion_mnist, report, set_threads_before_import  # noqa: E402

set_threads_before_import()
import torch  # noqa: E402  (after the thread settings above)
from torch import nn  # noqa: E402


def model_a():
    # encoder 784 → 64, decoder 64 → 784
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 784), nn.Sigmoid(),
                         nn.Unflatten(1, (1, 28, 28)))


class KerasSame(nn.Module):
    """Keras' 'same' geometry around a PyTorch layer: for a stride-2 convolution, one row and
    column of zeros at the bottom and right only (PyTorch's padding=1 would pad all four sides
    and move every window by a pixel); for a stride-2 transposed convolution, the last row and
    column of its 2n+1 outputs cropped, leaving 2n (PyTorch's output_padding would shift them)."""

    def __init__(self, layer, pad=(0, 0, 0, 0), crop=0):
        super().__init__()
        self.layer, self.pad, self.crop = layer, pad, crop

    def forward(self, x):
        if any(self.pad):
            x = nn.functional.pad(x, self.pad)
        x = self.layer(x)
        return x[:, :, :x.shape[2] - self.crop, :x.shape[3] - self.crop] if self.crop else x


def model_b():
    # Keras' shapes and windows exactly: 28 → 14 → 7 → 14 → 28 → 28
    return nn.Sequential(
        KerasSame(nn.Conv2d(1, 16, 3, stride=2), pad=(0, 1, 0, 1)), nn.ReLU(),
        KerasSame(nn.Conv2d(16, 8, 3, stride=2), pad=(0, 1, 0, 1)), nn.ReLU(),
        KerasSame(nn.ConvTranspose2d(8, 8, 3, stride=2), crop=1), nn.ReLU(),
        KerasSame(nn.ConvTranspose2d(8, 16, 3, stride=2), crop=1), nn.ReLU(),
        nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid())


def glorot_zero(module):
    """Keras' default initialisation: Glorot-uniform weights, zero biases."""
    if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(module.bias)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["A", "B"], default="A")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", default=os.environ.get("FASHION_MNIST_DIR", "data/fashion-mnist"))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, test = load_fashion_mnist(args.data, "torch_ae.py")
    x_train = torch.from_numpy(train).unsqueeze(1)   # (N, 1, 28, 28)
    x_test = torch.from_numpy(test).unsqueeze(1)

    model = model_a() if args.model == "A" else model_b()
    model.apply(glorot_zero)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.MSELoss()

    started = time.perf_counter()
    epoch_seconds = []
    train_loss = val_loss = float("nan")
    for epoch in range(args.epochs):
        epoch_start = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train))
        total, seen = 0.0, 0
        for start in range(0, len(x_train), args.batch):
            x = x_train[order[start:start + args.batch]]
            optimizer.zero_grad()
            loss = loss_fn(model(x), x)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
            seen += len(x)
        train_loss = total / seen
        model.eval()
        with torch.no_grad():
            total = 0.0
            for start in range(0, len(x_test), args.batch):
                x = x_test[start:start + args.batch]
                total += loss_fn(model(x), x).item() * len(x)
            val_loss = total / len(x_test)
        epoch_seconds.append(time.perf_counter() - epoch_start)
        if not args.quiet:
            print(f"pytorch model {args.model}  epoch {epoch + 1}/{args.epochs}  loss {train_loss:.4g}  "
                  f"val_loss {val_loss:.4g}  {epoch_seconds[-1]:.1f} s", file=sys.stderr, flush=True)
    total_seconds = time.perf_counter() - started

    report(torch, model, args.model, args.epochs, total_seconds)
    print(f"backend\t{torch.__config__.parallel_info().splitlines()[-1].strip()}")
    print(f"seconds_per_epoch\t{total_seconds / args.epochs:.4f}")
    print(f"train_loss\t{train_loss:.6f}")
    print(f"val_loss\t{val_loss:.6f}")
    print(f"peak_rss_mib\t{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0:.1f}")


if __name__ == "__main__":
    main()
