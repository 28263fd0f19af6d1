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
does in bayesl; `predict_glm` is a K-FAC Laplace's linearised predictive,
J Σ Jᵀ per row from the layers' Jacobians and S draws of the logits.

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


# ------------------------------------------------ the posteriors that scale
#
# Each loop below is what bayesl's backend of the same name does, written
# as a PyTorch user would (the reference code's way where there is one):
# the same objective, schedule, collection and defaults; see the Go
# documentation of infer.SWAG, infer.SGLD, infer.PSGLD, infer.CSGMCMC,
# infer.Ensemble and infer.Laplace. Chains and members run one after
# another, as the reference implementations do (bayesl runs them on both
# cores: compare the CPU time per epoch as well as the wall time).


def forward(params, x, f):
    nl = len(params) // 2
    h = x
    for k in range(nl):
        h = torch.addmm(params[nl + k], h, params[k])
        if k < nl - 1:
            h = f(h)
    return h


def derive(gen, k):
    """A generator for chain or member k, seeded from the run's."""
    return torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,), generator=gen)) + k)


def swa_lr(epoch, epochs, lr, swa_lr_, start):
    """The SWA schedule of the reference code at 1-based epoch."""
    if start <= 0:
        return swa_lr_
    t = (epoch - 1) / start
    if t <= 0.5:
        return lr
    if t <= 0.9:
        return lr + (swa_lr_ - lr) * (t - 0.5) / 0.4
    return swa_lr_


def swag_one(x, y, widths, act, cls, args, gen, rank=20):
    """One SWAG fit: SGD with momentum 0.9 on NLL(batch)/B + NegLogPrior/N
    under the SWA schedule (lr, then down to lr/2 between 50% and 90% of
    swa_start = epochs/2), collecting θ after every epoch past swa_start:
    running mean, running mean of squares and the last `rank` deviations
    (Maddox et al.'s SWAG class, on a flattened parameter vector)."""
    ws, bs = init_layers(widths, gen)
    params = [p.requires_grad_() for p in ws + bs]
    opt = torch.optim.SGD(params, lr=args.lr, momentum=0.9)
    f = act_fn(act)
    n = x.shape[0]
    start = args.epochs // 2 or -1
    d = sum(p.numel() for p in params)
    mean = torch.zeros(d, dtype=DTYPE)
    sq_mean = torch.zeros(d, dtype=DTYPE)
    devs, k = [], 0
    for epoch in range(1, args.epochs + 1):
        for g in opt.param_groups:
            g["lr"] = swa_lr(epoch, args.epochs, args.lr, args.lr / 2, start)
        for idx in batches(n, args.batch, gen):
            h = forward(params, x[idx], f)
            prior = sum((p * p).sum() for p in params) * 0.5
            loss = nll_sum(h, y[idx], cls) / len(idx) + prior / n
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if epoch > max(start, 0):
            with torch.no_grad():
                theta = torch.nn.utils.parameters_to_vector(params)
                mean.mul_(k / (k + 1)).add_(theta, alpha=1 / (k + 1))
                sq_mean.mul_(k / (k + 1)).add_(theta * theta, alpha=1 / (k + 1))
                devs.append(theta - mean)
                if len(devs) > rank:
                    devs.pop(0)
                k += 1
    var = torch.clamp(sq_mean - mean * mean, min=1e-30)
    return mean, var, torch.stack(devs, dim=1)


def train_swag(x, y, widths, act, cls, args, gen, stamp):
    return swag_one(x, y, widths, act, cls, args, gen)


def train_multiswag(x, y, widths, act, cls, args, gen, stamp, members=3):
    return [swag_one(x, y, widths, act, cls, args, derive(gen, m)) for m in range(members)]


def train_ensemble(x, y, widths, act, cls, args, gen, stamp, members=5):
    """Deep ensemble: members MAP fits (train_map) from their own seeds."""
    return [train_map(x, y, widths, act, cls, args, derive(gen, m), lambda: None) for m in range(members)]


def kept_epochs(groups, thin, max_samples):
    """The epochs whose end states a chain stores (infer's selectEpochs):
    every k-th epoch counted back from each group's end, k the smallest
    multiple of thin that stores at most max_samples."""
    k = thin
    while sum((hi - lo) // k + 1 for lo, hi in groups) > max_samples and k < 10**9:
        k += thin
    out = set()
    for lo, hi in groups:
        out.update(range(hi, lo - 1, -k))
    return sorted(out)[-max_samples:]


def sg_chain(x, y, widths, act, cls, args, gen, schedule, keep, precond=False, alpha=0.99, lam=1e-5, temp=1.0):
    """One SG-MCMC chain on U = NegLogPrior + (N/B)·NegLogLik(batch):
    θ ← θ − (ε/2)·G∇U + N(0, ε·T·G) with G = I (SGLD) or pSGLD's RMSprop
    preconditioner 1/(λ + √V), V tracking the mean likelihood gradient.
    Returns the stored states (flattened copies)."""
    ws, bs = init_layers(widths, gen)
    params = [p.requires_grad_() for p in ws + bs]
    vs = [torch.zeros_like(p) for p in params] if precond else None
    f = act_fn(act)
    n = x.shape[0]
    t, started, store = 0, False, []
    keep = set(keep)
    for epoch in range(1, args.epochs + 1):
        for idx in batches(n, args.batch, gen):
            eps, noisy = schedule(t)
            t += 1
            b = len(idx)
            h = forward(params, x[idx], f)
            nll = nll_sum(h, y[idx], cls)
            for p in params:
                p.grad = None
            nll.backward()
            with torch.no_grad():
                sd = math.sqrt(eps * temp) if noisy else 0.0
                for j, p in enumerate(params):
                    g = p.grad * (n / b) + p  # ∇U: the N(0, 1) prior's gradient is θ
                    if precond:
                        m = p.grad / b
                        if started:
                            vs[j].mul_(alpha).addcmul_(m, m, value=1 - alpha)
                        else:
                            vs[j] = m * m
                        G = 1 / (lam + vs[j].sqrt())
                        step = G * g * (eps / 2)
                        if sd:
                            step -= sd * G.sqrt() * torch.randn(p.shape, dtype=DTYPE, generator=gen)
                    else:
                        step = g * (eps / 2)
                        if sd:
                            step -= sd * torch.randn(p.shape, dtype=DTYPE, generator=gen)
                    p.sub_(step)
                started = True
        if epoch in keep:
            store.append(torch.nn.utils.parameters_to_vector(params).detach().clone())
    return store


def steps_per_epoch(n, batch):
    return (n + batch - 1) // batch


def decay_schedule(lr, gamma, epochs, spe):
    b = max(1, epochs * spe // 2)
    return lambda t: (lr * (1 + t / b) ** -gamma, True)


def sgld_chains(x, y, widths, act, cls, args, gen, eta, precond, chains=4):
    n = x.shape[0]
    spe = steps_per_epoch(n, args.batch)
    burnin = args.epochs // 2
    keep = kept_epochs([(burnin + 1, args.epochs)], 1, 50)
    sched = decay_schedule(2 * eta / n, 0.55, args.epochs, spe)
    return [sg_chain(x, y, widths, act, cls, args, derive(gen, c), sched, keep, precond=precond) for c in range(chains)]


def train_sgld(x, y, widths, act, cls, args, gen, stamp):
    return sgld_chains(x, y, widths, act, cls, args, gen, 0.01, False)


def train_psgld(x, y, widths, act, cls, args, gen, stamp):
    return sgld_chains(x, y, widths, act, cls, args, gen, 1e-3, True)


def train_csgmcmc(x, y, widths, act, cls, args, gen, stamp, chains=4, cycles=2, beta=0.9):
    """Cyclical SG-MCMC (Zhang et al. 2020): cosine step cycles over whole
    epochs, SGLD noise in each cycle's last (1 − β) part."""
    n = x.shape[0]
    spe = steps_per_epoch(n, args.batch)
    E, lr = args.epochs, 2 * 0.01 / n
    start = lambda k: k * E // cycles

    def at(t):
        e = t // spe
        k = ((e + 1) * cycles + E - 1) // E - 1
        j, length = t - start(k) * spe, (start(k + 1) - start(k)) * spe
        r = j / length
        return lr / 2 * (math.cos(math.pi * r) + 1), r >= beta or j == length - 1

    groups = []
    for k in range(cycles):
        hi = lo = start(k + 1)
        for e in range(hi - 1, start(k), -1):
            if not at(e * spe - 1)[1]:
                break
            lo = e
        groups.append((lo, hi))
    keep = kept_epochs(groups, 1, 50)
    return [sg_chain(x, y, widths, act, cls, args, derive(gen, c), at, keep) for c in range(chains)]


def train_laplace_ll(x, y, widths, act, cls, args, gen, stamp):
    """Last-layer Laplace with the GGN, as infer.Laplace with subset:
    last_layer, hessian: full, prior_precision: optimize: a MAP fit
    (train_map), the features φ of the last layer's input with a 1
    appended, Λ_r the likelihood's Fisher in the outputs (diag(p) − ppᵀ
    for the softmax, 1/σ² for the normal), the GGN Σ_r (φφᵀ)⊗Λ_r one block
    per pair of outputs c ≤ c' (Φᵀ diag(Λ[:, c, c']) Φ), the prior
    precision τ by the evidence's fixed point (bisection on log τ over the
    eigenvalues), and the Cholesky factor of GGN + τI."""
    params = train_map(x, y, widths, act, cls, args, gen, stamp)
    f = act_fn(act)
    nl = len(params) // 2
    with torch.no_grad():
        h = x
        for k in range(nl - 1):
            h = f(torch.addmm(params[nl + k], h, params[k]))
        out = torch.addmm(params[-1], h, params[nl - 1])
        loglik = -float(nll_sum(out, y, cls))
        phi = torch.cat([h, torch.ones(h.shape[0], 1, dtype=DTYPE)], dim=1)
        K, fdim = out.shape[1], phi.shape[1]
        if cls:
            p = torch.softmax(out, dim=1)
            lam = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
        else:
            lam = torch.full((out.shape[0], 1, 1), 1 / NOISE**2, dtype=DTYPE)
        H = torch.zeros(fdim, K, fdim, K, dtype=DTYPE)
        for c in range(K):
            for c2 in range(c, K):
                blk = (phi * lam[:, c, c2, None]).T @ phi
                H[:, c, :, c2] = blk
                if c2 != c:
                    H[:, c2, :, c] = blk.T
        H = H.reshape(fdim * K, fdim * K)
        theta = torch.cat([params[nl - 1].reshape(-1), params[-1]])
        q = float((theta * theta).sum())
        ev = torch.linalg.eigvalsh(H).clamp(min=0)

        def gap(s):
            tau = math.exp(s)
            return float((ev / (ev + tau)).sum()) - tau * q

        lo, hi = math.log(1e-8), math.log(1e8)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            lo, hi = (mid, hi) if gap(mid) > 0 else (lo, mid)
        tau = math.exp(0.5 * (lo + hi))
        U = torch.linalg.cholesky(H + tau * torch.eye(H.shape[0], dtype=DTYPE), upper=True)
        return params, U, tau, loglik


# ------------------------------------------ K-FAC and the GLM predictive
#
# infer.Laplace with subset: all, hessian: kron (the default on these nets)
# and its linearised predictive, written with plain tensors: the layers'
# inputs a and pre-activations s from a forward pass that keeps them, and
# backward passes by hand through the dense layers (δ ← (δ Wᵀ) ⊙ f'(s)),
# all the passes of a chunk stacked into one matrix per layer.

KFAC_CHUNK = 1024  # rows per curvature or predictive chunk


def act_grad(act, s, h):
    """f'(s) given s and h = f(s)."""
    return 1 - h * h if act == "tanh" else (s > 0).to(DTYPE)


def forward_keep(params, x, f):
    """The outputs, each layer's input a_l and each hidden pre-activation."""
    nl = len(params) // 2
    acts, pre, h = [x], [], x
    for k in range(nl):
        s = torch.addmm(params[nl + k], h, params[k])
        if k < nl - 1:
            pre.append(s)
            h = f(s)
            acts.append(h)
    return s, acts, pre


def backward_layers(params, delta, pre, acts, act, passes):
    """Propagates delta ((passes·rows) x outputs, the gradient in the last
    layer's output) down the layers; returns the gradient in every layer's
    output s_l, last layer first."""
    nl = len(params) // 2
    out = [delta]
    for l in range(nl - 1, 0, -1):
        d = act_grad(act, pre[l - 1], acts[l])
        delta = (delta @ params[l].T) * d.repeat(passes, 1)
        out.append(delta)
    return out[::-1]


def fisher_sqrt(out, cls):
    """L with L Lᵀ = Λ, the likelihood's Fisher in the outputs, per row
    (rows x K x passes): column k of the softmax's is √p_k (e_k − p)."""
    if cls:
        p = torch.softmax(out, dim=1)
        eye = torch.eye(out.shape[1], dtype=DTYPE)
        return p.sqrt()[:, None, :] * (eye[None] - p[:, :, None])
    return torch.full((out.shape[0], 1, 1), 1 / NOISE, dtype=DTYPE)


def kfac(params, x, y, act, cls, delta=1.0):
    """The K-FAC Laplace over every weight at params: per dense layer the
    exact-GGN factors A = Σ a aᵀ (over N) and G = Σ J_sᵀ Λ J_s,
    eigendecomposed; the weight block's precision eigenvalues
    E_ij = α_i γ_j + δ, the bias block's γ_j + δ (δ = τ·P₀ = 1, the model's
    N(0, 1) prior). Returns the blocks and the log evidence."""
    f = act_fn(act)
    nl = len(params) // 2
    n = x.shape[0]
    A = [torch.zeros(w.shape[0], w.shape[0], dtype=DTYPE) for w in params[:nl]]
    G = [torch.zeros(w.shape[1], w.shape[1], dtype=DTYPE) for w in params[:nl]]
    loglik = 0.0
    with torch.no_grad():
        for lo in range(0, n, KFAC_CHUNK):
            xb, yb = x[lo : lo + KFAC_CHUNK], y[lo : lo + KFAC_CHUNK]
            out, acts, pre = forward_keep(params, xb, f)
            loglik -= float(nll_sum(out, yb, cls))
            for l in range(nl):
                A[l].addmm_(acts[l].T, acts[l])
            L = fisher_sqrt(out, cls)
            passes = L.shape[2]
            d0 = L.permute(2, 0, 1).reshape(passes * out.shape[0], out.shape[1])
            for l, d in enumerate(backward_layers(params, d0, pre, acts, act, passes)):
                G[l].addmm_(d.T, d)
        blocks, logdet = [], 0.0
        for l in range(nl):
            alpha, qa = torch.linalg.eigh(A[l] / n)
            gamma, qg = torch.linalg.eigh(G[l])
            alpha, gamma = alpha.clamp(min=0), gamma.clamp(min=0)
            ew = alpha[:, None] * gamma[None, :] + delta
            eb = gamma + delta
            logdet += float(ew.log().sum() + eb.log().sum())
            blocks.append((qa, qg, ew, eb))
        scatter = delta * float(sum((p * p).sum() for p in params))
        logdet_prior = math.log(delta) * sum(p.numel() for p in params)
        logev = loglik - 0.5 * (logdet - logdet_prior + scatter)
    return blocks, logev


def train_laplace_kron(x, y, widths, act, cls, args, gen, stamp):
    """A MAP fit (train_map), then kfac over all N rows."""
    params = train_map(x, y, widths, act, cls, args, gen, stamp)
    blocks, logev = kfac(params, x, y, act, cls)
    return params, blocks, logev


def glm_predictive(params, blocks, x, y, act, samples, gen):
    """The linearised predictive at the rows of x: the logits are
    N(f(x, θ_MAP), J Σ Jᵀ); per chunk, the Jacobian of the outputs in each
    layer's output by one backward pass per output (stacked), then per
    layer with V = J_s Q_G, u = Q_Aᵀ a and e_j = Σ_i u_i² / Ew_ij + 1 / Eb_j,
    J Σ Jᵀ += V diag(e) Vᵀ; then `samples` draws of the logits through the
    Cholesky factor, log-softmax, and the mixture NLL."""
    f = act_fn(act)
    n = x.shape[0]
    nll = torch.empty(n, dtype=DTYPE)
    with torch.no_grad():
        for lo in range(0, n, KFAC_CHUNK):
            xb, yb = x[lo : lo + KFAC_CHUNK], y[lo : lo + KFAC_CHUNK]
            out, acts, pre = forward_keep(params, xb, f)
            rows, w = out.shape
            d0 = torch.eye(w, dtype=DTYPE).repeat_interleave(rows, dim=0)
            cov = torch.zeros(rows, w, w, dtype=DTYPE)
            for l, js in enumerate(backward_layers(params, d0, pre, acts, act, w)):
                qa, qg, ew, eb = blocks[l]
                v = (js @ qg).reshape(w, rows, -1).transpose(0, 1)  # rows x W x Out
                u = acts[l] @ qa
                e = (u * u) @ ew.reciprocal() + eb.reciprocal()
                cov.baddbmm_(v * e[:, None, :], v.transpose(1, 2))
            chol, _ = torch.linalg.cholesky_ex(cov)
            z = torch.randn(samples, rows, w, dtype=DTYPE, generator=gen)
            logits = out + torch.einsum("rkj,srj->srk", chol, z)
            lp = torch.log_softmax(logits, dim=2).gather(2, yb.view(1, -1, 1).expand(samples, -1, 1))[:, :, 0]
            nll[lo : lo + rows] = -(torch.logsumexp(lp, dim=0) - math.log(samples))
    return float(nll.mean())


LOOPS = {
    "map": train_map,
    "vi": train_vi,
    "swag": train_swag,
    "multiswag": train_multiswag,
    "sgld": train_sgld,
    "psgld": train_psgld,
    "csgmcmc": train_csgmcmc,
    "ensemble": train_ensemble,
    "laplace_ll": train_laplace_ll,
    "laplace_kron": train_laplace_kron,
}


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


def predictive_glm(x, y, widths, act, cls, args, gen):
    """The GLM predictive of a kron Laplace (glm_predictive), S draws over
    every row; the posterior (weights from the initialiser, K-FAC on the
    rows of class 0, as the Go side's one-epoch fit on them) is not timed."""
    ws, bs = init_layers(widths, gen)
    params = ws + bs
    head = y == 0
    blocks, _ = kfac(params, x[head], y[head], act, cls)
    t0 = time.perf_counter()
    glm_predictive(params, blocks, x, y, act, args.samples, gen)
    return time.perf_counter() - t0


PREDICTIVES = {"predict": predictive, "predict_glm": predictive_glm}


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
        rec["backend"] = args.backend if args.backend in PREDICTIVES else "predict"
        rec["samples"] = args.samples
        rec["seconds"] = PREDICTIVES[rec["backend"]](x, y, widths, act, cls, args, gen)
    else:
        loop = LOOPS.get(args.backend)
        if loop is None:
            sys.exit(f"torch_bench: no PyTorch loop for backend {args.backend!r} (have {sorted(LOOPS)})")
        stamps, cpu = [], []

        def stamp():
            stamps.append(time.perf_counter() - t0)
            cpu.append(time.process_time())

        c0 = time.process_time()
        t0 = time.perf_counter()
        loop(x, y, widths, act, cls, args, gen, stamp)
        rec["seconds"] = time.perf_counter() - t0
        rec["cpu_s"] = time.process_time() - c0
        rec["epochs"] = args.epochs
        rec["epoch_end_s"] = stamps
        rec["epoch_cpu_s"] = cpu
    rec["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(rec))


if __name__ == "__main__":
    main()
