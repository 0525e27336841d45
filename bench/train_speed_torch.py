# SPDX-License-Identifier: Apache-2.0
"""PyTorch CPU side of bench/train-speed: the same four architectures, batches, loss, optimizer
and thread count as `tern bench train`. Prints one JSON object {workload: samples_per_second}."""
import argparse, json, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


def resnet8():
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


class Attention(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.query, self.key, self.value, self.output = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x):
        b, t, d = x.shape; dh = d // self.h
        split = lambda y: y.view(b, t, self.h, dh).permute(0, 2, 1, 3).reshape(b * self.h, t, dh)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        a = torch.softmax(q @ k.transpose(1, 2) / dh ** 0.5, dim=-1)
        return self.output((a @ v).view(b, self.h, t, dh).permute(0, 2, 1, 3).reshape(b, t, d))


class TransformerBlock(nn.Module):
    def __init__(self, d=128, h=4, r=4):
        super().__init__()
        self.norm1, self.attention, self.norm2 = nn.LayerNorm(d), Attention(d, h), nn.LayerNorm(d)
        self.fc1, self.fc2 = nn.Linear(d, d * r), nn.Linear(d * r, d)

    def forward(self, x):
        h = x + self.attention(self.norm1(x))
        return h + self.fc2(F.gelu(self.fc1(self.norm2(h))))


WORKLOADS = {
    "mlp": (mlp, 128, (1, 28, 28), True),
    "cnn": (small_cnn, 64, (1, 28, 28), True),
    "resnet8": (resnet8, 64, (3, 32, 32), True),
    "transformer": (TransformerBlock, 16, (64, 128), False),
}


def measure(name, steps, repetitions):
    make, batch, shape, classification = WORKLOADS[name]
    torch.manual_seed(1)
    model = make()
    x = torch.randn(batch, *shape)
    labels = torch.arange(batch) % 10
    target = torch.randn(batch, *shape)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        y = model(x)
        loss = F.cross_entropy(y, labels) if classification else F.mse_loss(y, target)
        loss.backward()
        opt.step()

    # The same rule as `tern bench train`: warm-up of at least 5 steps and 0.5 s, timed windows of
    # at least `steps` steps and 0.25 s.
    w0, warmed = time.perf_counter(), 0
    while warmed < 5 or time.perf_counter() - w0 < 0.5:
        step()
        warmed += 1
    rates = []
    for _ in range(repetitions):
        t0, done = time.perf_counter(), 0
        while done < steps or time.perf_counter() - t0 < 0.25:
            step()
            done += 1
        rates.append(done * batch / (time.perf_counter() - t0))
    return statistics.median(rates)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--workloads", default="mlp,cnn,resnet8,transformer")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    out = {n: measure(n, a.steps, a.repetitions) for n in a.workloads.split(",")}
    out["_torch"] = torch.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
