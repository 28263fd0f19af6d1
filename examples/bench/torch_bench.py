#!/usr/bin/python3
"""The PyTorch side of the bayesl speed harness (examples/bench).

One process runs one case once and prints one JSON line on stdout, the same
record the Go side (examples/bench, `bench case`) prints:

    {"impl": "pytorch", "case": ..., "backend": ..., "epoch_s": [...],
     "per_epoch_s": ..., "rows": ..., "peak_rss_mb": ...}

It implements the training loops of bayesl's map and vi backends with the
same objective, optimiser, initialisation and minibatching, in float64 (the
only precision bayesl has):

  map  Adam (β = 0.9, 0.999, ε = 1e-8) on NLL(batch)/B + NegLogPrior/N, prior
       N(0, 1) on every weight and bias; weights start LeCun-normal
       N(0, 1/fan_in), biases at 0.
  vi   Bayes by backprop, mean-field q = N(μ, σ²), σ = softplus(ρ), σ starts
       at 1e-3; dense layers by local reparameterisation (one ζ per example
       and unit); closed-form KL to the N(0, 1) prior; Adam on
       KL/N + NLL(batch)/B, one Monte-Carlo sample per step.

Each epoch shuffles the rows (a fresh permutation) and walks them in
minibatches; the last one may be short, as in bayesl.

`predict` draws S weight vectors from a Gaussian posterior and computes the
S x N x K log-softmax predictive and its NLL, as `evaluate p on test: nll`
does in bayesl.

Thread settings come from the environment of the caller (the harness sets
OPENBLAS_NUM_THREADS before Python starts) and --threads, which sets
torch.set_num_threads (PyTorch's own intra-op pool).

Backends are looked up in LOOPS by name; a new backend is one function and
one entry there.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DTYPE = torch.float64
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")


# ---------------------------------------------------------------- data


def standardize(a):
    """Column z-scores with the population sd; a constant column maps to 0
    (sd 1), as bayesl's data.FitScaler does."""
    mean = a.mean(axis=0)
    sd = a.std(axis=0)
    const = a.max(axis=0) == a.min(axis=0)
    sd[const] = 1.0
    return (a - mean) / sd


def load_case(args):
    """Returns x (N x D float64), y (N: float64 targets or int64 labels),
    widths [D, h..., out], activation, classification flag."""
    c = args.case
    if c == "mcycle":
        a = np.loadtxt(os.path.join(DATA, "mcycle.csv"), delimiter=",", skiprows=1)
        x = standardize(a[:, :1])
        y = standardize(a[:, 1:2])[:, 0]
        return x, y, [1, args.width or 50, args.width or 50, 1], "tanh", False
    if c == "digits":
        a = np.loadtxt(os.path.join(DATA, "digits.csv"), delimiter=",", skiprows=1)
        x = standardize(a[:, :64])
        y = a[:, 64].astype(np.int64)
        return x, y, [64, args.width or 128, 10], "relu", True
    if c in ("mnist", "predict"):
        # MNIST-shaped random rows: uniform pixels in [0, 1), random labels.
        n = args.rows or (10000 if c == "predict" else 60000)
        rng = np.random.default_rng(args.seed)
        x = rng.random((n, 784))
        y = rng.integers(0, 10, n).astype(np.int64)
        w = args.width or 256
        return x, y, [784, w, w, 10], "relu", True
    sys.exit(f"torch_bench: unknown case {c!r}")


# ---------------------------------------------------------------- models


def act_fn(name):
    return {"tanh": torch.tanh, "relu": torch.relu}[name]


def nll_sum(out, y, classification):
    if classification:
        return F.cross_entropy(out, y, reduction="sum")
    # normal(o, NOISE): -log N(y | o, NOISE²) summed
    z = (y - out[:, 0]) / NOISE
    return (0.5 * z * z).sum() + out.shape[0] * (LOG_SQRT_2PI + math.log(NOISE))


NOISE = 0.5  # the fixed observation noise of the regression case
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def init_layers(widths, gen):
    """LeCun-normal weights, zero biases, as compile.Program.Init."""
    ws, bs = [], []
    for i, o in zip(widths[:-1], widths[1:]):
        ws.append(torch.randn(i, o, dtype=DTYPE, generator=gen) / math.sqrt(i))
        bs.append(torch.zeros(o, dtype=DTYPE))
    return ws, bs


def batches(n, batch, gen):
    perm = torch.randperm(n, generator=gen)
    for lo in range(0, n, batch):
        yield perm[lo : lo + batch]


def train_map(x, y, widths, act, cls, args, gen, stamp):
    ws, bs = init_layers(widths, gen)
    params = [p.requires_grad_() for p in ws + bs]
    opt = torch.optim.Adam(params, lr=args.lr)
    f = act_fn(act)
    n = x.shape[0]
    for _ in range(args.epochs):
        for idx in batches(n, args.batch, gen):
            xb, yb = x[idx], y[idx]
            h = xb
            for k, (w, b) in enumerate(zip(ws, bs)):
                h = torch.addmm(b, h, w)
                if k < len(ws) - 1:
                    h = f(h)
            prior = sum((p * p).sum() for p in params) * 0.5
            loss = nll_sum(h, yb, cls) / len(idx) + prior / n
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        stamp()
    return [p.detach() for p in params]


def softplus_inv(v):
    return v + math.log(-math.expm1(-v))


def train_vi(x, y, widths, act, cls, args, gen, stamp):
    ws, bs = init_layers(widths, gen)
    rho0 = softplus_inv(1e-3)
    mus = [p.requires_grad_() for p in ws + bs]
    rhos = [torch.full_like(p, rho0).requires_grad_() for p in mus]
    nl = len(ws)
    opt = torch.optim.Adam(mus + rhos, lr=args.lr)
    f = act_fn(act)
    n = x.shape[0]
    for _ in range(args.epochs):
        for idx in batches(n, args.batch, gen):
            xb, yb = x[idx], y[idx]
            sig = [F.softplus(r) for r in rhos]
            h = xb
            for k in range(nl):
                mw, mb = mus[k], mus[nl + k]
                sw, sb = sig[k], sig[nl + k]
                gamma = torch.addmm(mb, h, mw)
                delta = torch.addmm(sb * sb, h * h, sw * sw)
                zeta = torch.randn(gamma.shape, dtype=DTYPE, generator=gen)
                h = gamma + torch.sqrt(delta + 1e-16) * zeta
                if k < nl - 1:
                    h = f(h)
            # KL(N(μ, σ²) ‖ N(0, 1)) in closed form
            kl = sum(
                (0.5 * (s * s + m * m) - torch.log(s)).sum() - 0.5 * m.numel()
                for m, s in zip(mus, sig)
            )
            loss = nll_sum(h, yb, cls) / len(idx) + kl / n
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        stamp()
    return [m.detach() for m in mus], [F.softplus(r).detach() for r in rhos]


LOOPS = {"map": train_map, "vi": train_vi}


def predictive(x, y, widths, act, cls, args, gen):
    """S-draw predictive of a Gaussian posterior (μ from the initialiser,
    σ = 0.01): log-softmax outputs S x N x K, then the mixture NLL."""
    ws, bs = init_layers(widths, gen)
    f = act_fn(act)
    nl = len(ws)
    with torch.no_grad():
        mus = ws + bs
        t0 = time.perf_counter()
        out = torch.empty(args.samples, x.shape[0], widths[-1], dtype=DTYPE)
        for s in range(args.samples):
            th = [m + 0.01 * torch.randn(m.shape, dtype=DTYPE, generator=gen) for m in mus]
            h = x
            for k in range(nl):
                h = torch.addmm(th[nl + k], h, th[k])
                if k < nl - 1:
                    h = f(h)
            out[s] = torch.log_softmax(h, dim=1)
        lp = out.gather(2, y.view(1, -1, 1).expand(args.samples, -1, 1))[:, :, 0]
        nll = -(torch.logsumexp(lp, dim=0) - math.log(args.samples)).mean()
        float(nll)
        return time.perf_counter() - t0


# ---------------------------------------------------------------- main


def peak_rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", required=True)
    ap.add_argument("--backend", default="map")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--width", type=int, default=0, help="hidden width (0: the case's own)")
    ap.add_argument("--rows", type=int, default=0, help="rows of the random data sets (0: the case's own)")
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    x, y, widths, act, cls = load_case(args)
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    y = torch.from_numpy(y) if cls else torch.from_numpy(y.astype(np.float64))

    rec = {
        "impl": "pytorch",
        "case": args.case,
        "backend": args.backend,
        "rows": int(x.shape[0]),
        "widths": widths,
        "batch": args.batch,
        "threads": {"torch": torch.get_num_threads(), "openblas": os.environ.get("OPENBLAS_NUM_THREADS", "")},
        "version": torch.__version__,
    }
    if args.case == "predict":
        rec["backend"] = "predict"
        rec["samples"] = args.samples
        rec["seconds"] = predictive(x, y, widths, act, cls, args, gen)
    else:
        loop = LOOPS.get(args.backend)
        if loop is None:
            sys.exit(f"torch_bench: no PyTorch loop for backend {args.backend!r} (have {sorted(LOOPS)})")
        stamps, cpu = [], []

        def stamp():
            stamps.append(time.perf_counter() - t0)
            cpu.append(time.process_time())

        t0 = time.perf_counter()
        loop(x, y, widths, act, cls, args, gen, stamp)
        rec["epochs"] = args.epochs
        rec["epoch_end_s"] = stamps
        rec["epoch_cpu_s"] = cpu
        rec["seconds"] = stamps[-1]
    rec["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(rec))


if __name__ == "__main__":
    main()
