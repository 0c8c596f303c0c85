#!/usr/bin/python3
"""Optimiser fixtures for tests/optim: PyTorch's torch.optim.SGD, Adam and
AdamW, clip_grad_norm_ and ReduceLROnPlateau on known gradients and losses.

    /usr/bin/python3 tests/make-optim-fixtures.py   # Debian's python3-torch

Writes tests/fixtures/optim/optim.safetensors:
  init.w [6, 4], init.b [4]           the parameters before the first step
  grads.w [S, 6, 4], grads.b [S, 4]   the gradient at each of S steps
  CASE.w [S, 6, 4], CASE.b [S, 4]     the parameters after each step
  plateau.loss [E], plateau.lr [E]    losses reported and the rate after each
and in the metadata, for each CASE, its options ("kind=adam lr=0.01 ...").
w is in a group with the case's weight decay, b in a group without, as a
trainer decays weights and not biases. With clip=X the gradients of both
are clipped together to norm X before each step.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from safetensors_torch import write_safetensors  # noqa: E402

STEPS = 8
CASES = {
    "sgd": dict(kind="sgd", lr=0.1),
    "sgd_momentum_decay": dict(kind="sgd", lr=0.05, momentum=0.9, wd=0.01),
    "sgd_nesterov": dict(kind="sgd", lr=0.05, momentum=0.9, nesterov=1),
    "adam": dict(kind="adam", lr=0.01),
    "adam_l2": dict(kind="adam", lr=0.01, wd=0.01, beta1=0.8, beta2=0.99, eps=1e-6),
    "adamw": dict(kind="adam", lr=0.01, wd=0.1, decoupled=1),
    "sgd_clip": dict(kind="sgd", lr=0.1, momentum=0.5, clip=0.5),
    "adam_clip": dict(kind="adam", lr=0.01, clip=1.0),
}


def make_optimizer(case, w, b):
    wd = case.get("wd", 0.0)
    groups = [{"params": [w], "weight_decay": wd}, {"params": [b], "weight_decay": 0.0}]
    if case["kind"] == "sgd":
        return torch.optim.SGD(groups, lr=case["lr"], momentum=case.get("momentum", 0.0),
                               nesterov=bool(case.get("nesterov", 0)))
    cls = torch.optim.AdamW if case.get("decoupled") else torch.optim.Adam
    return cls(groups, lr=case["lr"], betas=(case.get("beta1", 0.9), case.get("beta2", 0.999)),
               eps=case.get("eps", 1e-8))


def main():
    torch.manual_seed(7)
    init_w = torch.randn(6, 4)
    init_b = torch.randn(4)
    # Gradients of varied size, some steps large enough to be clipped.
    scale = torch.tensor([0.1, 1.0, 3.0, 0.5, 2.0, 0.05, 1.5, 0.8])
    grads_w = torch.randn(STEPS, 6, 4) * scale.view(-1, 1, 1)
    grads_b = torch.randn(STEPS, 4) * scale.view(-1, 1)
    tensors = {"init.w": init_w, "init.b": init_b, "grads.w": grads_w, "grads.b": grads_b}
    metadata = {}
    for name, case in CASES.items():
        w = init_w.clone().requires_grad_(True)
        b = init_b.clone().requires_grad_(True)
        opt = make_optimizer(case, w, b)
        out_w, out_b = [], []
        for s in range(STEPS):
            w.grad = grads_w[s].clone()
            b.grad = grads_b[s].clone()
            if "clip" in case:
                torch.nn.utils.clip_grad_norm_([w, b], case["clip"])
            opt.step()
            out_w.append(w.detach().clone())
            out_b.append(b.detach().clone())
        tensors[name + ".w"] = torch.stack(out_w)
        tensors[name + ".b"] = torch.stack(out_b)
        metadata[name] = " ".join("%s=%s" % (k, v) for k, v in case.items())

    # ReduceLROnPlateau: improvement, a plateau, a tiny improvement below the
    # threshold, a NaN-free run down to min_lr.
    losses = [5.0, 4.0, 4.0, 3.9999, 4.1, 4.2, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 2.0, 2.5,
              2.5, 2.5, 2.5, 2.5]
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2,
                                                       threshold=1e-4, cooldown=1, min_lr=0.02)
    lrs = []
    for loss in losses:
        sched.step(loss)
        lrs.append(opt.param_groups[0]["lr"])
    tensors["plateau.loss"] = torch.tensor(losses, dtype=torch.float64).float()
    tensors["plateau.lr"] = torch.tensor(lrs)
    metadata["plateau"] = "lr=0.1 factor=0.5 patience=2 threshold=1e-4 cooldown=1 min_lr=0.02"
    metadata["torch"] = torch.__version__

    out = os.path.join(os.path.dirname(__file__), "fixtures", "optim", "optim.safetensors")
    write_safetensors(out, tensors, metadata=metadata)
    print("wrote", out)


if __name__ == "__main__":
    main()
