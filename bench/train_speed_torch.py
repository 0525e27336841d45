# SPDX-License-Identifier: Apache-2.0
"""PyTorch CPU side of bench/train-speed: the same four architectures, batches, loss, optimizer
and thread count as `tern bench train`, each in PyTorch's fastest eager form:

- transformer: attention through `F.scaled_dot_product_attention` (PyTorch's fused
  flash-attention CPU kernel, forward and backward) or written out (softmax(q kᵀ/sqrt(dh)) v with
  batched products); the same math either way (4 heads, scale 1/sqrt(dh), no mask, the same four
  projections); whichever is faster in this run;
- cnn, resnet8: contiguous (NCHW) or channels-last (NHWC) model and input, whichever is faster in
  this run;
- mlp: plain contiguous tensors (nothing to choose);
- every workload: SGD with momentum as PyTorch's fused CPU kernel (`fused=True`: one pass over
  each parameter; the same update, bit-identical parameters to the default for-loop form; Tern's
  SGD is one fused loop too). `--sgd for-loop|foreach` selects the other implementations.

"Faster in this run": a short probe of alternating timed windows of every candidate form decides
(`--attention auto`, `--memory-format auto`, the defaults); a fixed form can be forced. On a
2-vCPU AMD EPYC (Zen 3, AVX2) channels-last measured ~40 % faster than contiguous for both
convolutional models, while SDPA against the written-out attention was a toss-up (paired ratio
0.96 at 2 threads, 1.06 at 1 thread, both within the spread): hence a probe, not a fixed choice.
Fused SGD measured within noise of the for-loop and foreach forms (paired ratios 0.94-1.02 at
2 threads); it is used as PyTorch's documented fastest implementation, not for a measured gain.

Eager mode only (no torch.compile); threads = --threads for both intra-op and inter-op pools.
Left at PyTorch's defaults: oneDNN on (its convolutions), denormals not flushed
(`torch.set_flush_denormal(True)` had no consistent effect on any of the four workloads).
Prints the torch version and the chosen forms on stderr and one JSON object on stdout:
{"torch": {...}, "threads": N, "forms": {workload: {...}}, "samples_per_second": {workload: rate}}."""
import argparse, json, statistics, sys, time, warnings

# The bench venv holds torch and its own dependencies only; numpy is not needed here.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
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
    """Multi-head self-attention, no mask. `sdpa`: the fused `scaled_dot_product_attention`
    (default scale 1/sqrt(dh)); `manual`: softmax(q kᵀ / sqrt(dh)) v written out with batched
    products (this script's only form before SDPA). The same math; the probe picks the faster."""

    def __init__(self, d, h, form="sdpa"):
        super().__init__()
        self.h, self.form = h, form
        self.query, self.key, self.value, self.output = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x):
        b, t, d = x.shape; dh = d // self.h
        if self.form == "sdpa":
            heads = lambda y: y.view(b, t, self.h, dh).transpose(1, 2)  # [b, h, t, dh]
            o = F.scaled_dot_product_attention(heads(self.query(x)), heads(self.key(x)), heads(self.value(x)))
            return self.output(o.transpose(1, 2).reshape(b, t, d))
        # The hand-written form used before SDPA, unchanged.
        split = lambda y: y.view(b, t, self.h, dh).permute(0, 2, 1, 3).reshape(b * self.h, t, dh)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        a = torch.softmax(q @ k.transpose(1, 2) / dh ** 0.5, dim=-1)
        return self.output((a @ v).view(b, self.h, t, dh).permute(0, 2, 1, 3).reshape(b, t, d))


class TransformerBlock(nn.Module):
    def __init__(self, d=128, h=4, r=4, attention="sdpa"):
        super().__init__()
        self.norm1, self.attention, self.norm2 = nn.LayerNorm(d), Attention(d, h, attention), nn.LayerNorm(d)
        self.fc1, self.fc2 = nn.Linear(d, d * r), nn.Linear(d * r, d)

    def forward(self, x):
        h = x + self.attention(self.norm1(x))
        return h + self.fc2(F.gelu(self.fc1(self.norm2(h))))


# name: (constructor, batch, input shape, classification?, convolutional?)
WORKLOADS = {
    "mlp": (mlp, 128, (1, 28, 28), True, False),
    "cnn": (small_cnn, 64, (1, 28, 28), True, True),
    "resnet8": (resnet8, 64, (3, 32, 32), True, True),
    "transformer": (TransformerBlock, 16, (64, 128), False, False),
}
FORMATS = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
ATTENTION = ["sdpa", "manual"]
SGD_FORMS = {"fused": {"fused": True}, "foreach": {"foreach": True}, "for-loop": {"foreach": False}}


def trainer(name, memory_format="contiguous", attention="sdpa", sgd="fused"):
    """A fresh model (seed 1), its fixed batch and optimizer; returns (one SGD step, batch size)."""
    make, batch, shape, classification, _ = WORKLOADS[name]
    torch.manual_seed(1)
    model = make(attention=attention) if name == "transformer" else make()
    x = torch.randn(batch, *shape)
    labels = torch.arange(batch) % 10
    target = torch.randn(batch, *shape)
    if memory_format != "contiguous":
        model = model.to(memory_format=FORMATS[memory_format])
        x = x.contiguous(memory_format=FORMATS[memory_format])
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, **SGD_FORMS[sgd])

    def step():
        opt.zero_grad()
        y = model(x)
        loss = F.cross_entropy(y, labels) if classification else F.mse_loss(y, target)
        loss.backward()
        opt.step()
    return step, batch


def warm_up(step):
    # The same rule as `tern bench train`: warm-up of at least 5 steps and 0.5 s.
    w0, warmed = time.perf_counter(), 0
    while warmed < 5 or time.perf_counter() - w0 < 0.5:
        step()
        warmed += 1


def window(step, batch, steps):
    # The same rule as `tern bench train`: a timed window of at least `steps` steps and 0.25 s.
    t0, done = time.perf_counter(), 0
    while done < steps or time.perf_counter() - t0 < 0.25:
        step()
        done += 1
    return done * batch / (time.perf_counter() - t0)


def measure(step, batch, steps, repetitions):
    warm_up(step)
    return statistics.median(window(step, batch, steps) for _ in range(repetitions))


def candidates(name, a):
    """{label: trainer keywords}: the eager forms of one workload that this run may use. More than
    one means they are probed and the fastest is measured."""
    if WORKLOADS[name][4]:
        return {f: {"memory_format": f} for f in (FORMATS if a.memory_format == "auto" else [a.memory_format])}
    if name == "transformer":
        return {f: {"attention": f} for f in (ATTENTION if a.attention == "auto" else [a.attention])}
    return {"": {}}


def probe(name, forms, sgd, steps, rounds):
    """Every candidate form warmed up, then `rounds` alternating timed windows each (so all see the
    same machine noise, in alternating order); the highest median wins."""
    steppers = {f: trainer(name, sgd=sgd, **kw) for f, kw in forms.items()}
    for step, _ in steppers.values():
        warm_up(step)
    rates = {f: [] for f in forms}
    order = list(steppers.items())
    for i in range(rounds):
        for f, (step, batch) in (order if i % 2 == 0 else order[::-1]):
            rates[f].append(window(step, batch, steps))
    medians = {f: statistics.median(r) for f, r in rates.items()}
    return max(medians, key=medians.get), {f: round(m, 1) for f, m in medians.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--workloads", default="mlp,cnn,resnet8,transformer")
    p.add_argument("--memory-format", choices=["auto", *FORMATS], default="auto",
                   help="cnn/resnet8: auto = probe both formats in this run and measure the faster")
    p.add_argument("--attention", choices=["auto", *ATTENTION], default="auto",
                   help="transformer: auto = probe SDPA and the hand-written form in this run and measure the faster")
    p.add_argument("--probe-rounds", type=int, default=3, help="alternating windows per candidate form in a probe")
    p.add_argument("--sgd", choices=list(SGD_FORMS), default="fused", help="torch.optim.SGD implementation")
    p.add_argument("--expect-torch", default=None, help="fail unless torch.__version__ is exactly this")
    a = p.parse_args()

    if a.expect_torch and torch.__version__ != a.expect_torch:
        sys.exit(f"train_speed_torch.py: torch {torch.__version__} is installed, the pinned peer is {a.expect_torch}")
    # Before any parallel work: set_num_interop_threads fails once the inter-op pool has started.
    torch.set_num_interop_threads(a.threads)
    torch.set_num_threads(a.threads)
    info = {"version": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "mkldnn": torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
            "intra_op_threads": torch.get_num_threads(), "inter_op_threads": torch.get_num_interop_threads()}
    print(f"pytorch {info['version']} (ATen {info['cpu_capability']}, oneDNN {'on' if info['mkldnn'] else 'off'}, "
          f"{info['intra_op_threads']}+{info['inter_op_threads']} threads), eager mode", file=sys.stderr)

    forms, rates = {}, {}
    for name in a.workloads.split(","):
        options = candidates(name, a)
        chosen, probed = next(iter(options)), None
        if len(options) > 1:
            chosen, probed = probe(name, options, a.sgd, a.steps, max(1, a.probe_rounds))
        form = {**options[chosen], "sgd": a.sgd}
        if probed:
            form["probe_samples_per_second"] = probed
        step, batch = trainer(name, sgd=a.sgd, **options[chosen])
        rates[name] = measure(step, batch, a.steps, a.repetitions)
        forms[name] = form
        print(f"pytorch {name:<12} {rates[name]:10.1f} samples/s  {json.dumps(form)}", file=sys.stderr)
    print(json.dumps({"torch": info, "threads": a.threads, "forms": forms, "samples_per_second": rates}))


if __name__ == "__main__":
    main()
