#!/usr/bin/python3
"""bench/peers/zoo_v2.py — the 2023 metrics' zoo-level scores as the official evaluation scripts
compute them, to check `pedlab rank --metric etran,ncti --json` against.

    zoo_v2.py ZOO [TASK ...]   (ETRAN_REPO and NCTI_REPO name the official checkouts)

For each task of ZOO (a pedlab zoo folder: <model>_<task>_feature.npy, _label.npy, gt.json) and
each model with ground truth: ETran's `LDA_Score(X, y)` and `Energy_Score(X, 0.5, 'bot')`, NCTI's
`NCTI_Score(X, y)` (nuc, ncc, vc) from the official metrics.py files, unmodified except that
NCTI's PCA is given the exact solver (`svd_solver='full'`, as the fixtures' reference values; the
official code's default is sklearn's randomized solver, unseeded, whose values move from run to
run) unless NCTI_PCA=default. Float32 files are passed as loaded (the official scripts' np.load:
ETran's energy and NCTI's PCA then compute in float32), or widened first with AS_FLOAT64=1 (as
pedlab computes). Then the combinations of the official scripts: ETran's tw.py
`scale` (min-max) of energy and LDA, 0.15·energy + 0.85·lda; NCTI's evaluate_metric_group1_cpu.py
(ncc − min)/(max − min) + (nuc − min)/… − (vc − min)/…; weighted τ by scipy.stats.weightedtau
against gt.json's accuracies (their rank_correlation.w_kendall_metric).

Prints one JSON object: {task: {"etran": {"scores": {model: s}, "weighted_tau": t},
"ncti": {...}}}. Nothing of the official code is copied into pedlab.
"""
import contextlib
import importlib.util
import json
import os
import sys


def load(var, what):
    repo = os.environ.get(var)
    if not repo or not os.path.isfile(os.path.join(repo, "metrics.py")):
        sys.exit("%s is not set to a checkout of %s (with metrics.py)" % (var, what))
    sys.path.insert(0, repo)
    for name in ("metrics", "utils"):
        sys.modules.pop(name, None)
    spec = importlib.util.spec_from_file_location(what.replace("/", "_"),
                                                  os.path.join(repo, "metrics.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sys.path.remove(repo)
    return mod


def minmax(v):
    lo, hi = min(v.values()), max(v.values())
    return {k: (x - lo) / (hi - lo) for k, x in v.items()}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    import numpy as np
    from scipy.stats import weightedtau
    zoo = sys.argv[1]
    etran = load("ETRAN_REPO", "mgholamikn/ETran")
    ncti = load("NCTI_REPO", "BUserName/NCTI")
    if os.environ.get("NCTI_PCA", "full") == "full":
        real_pca = ncti.PCA
        ncti.PCA = lambda n_components: real_pca(n_components=n_components, svd_solver="full")
    with open(os.path.join(zoo, "gt.json")) as f:
        gt = json.load(f)
    tasks = sys.argv[2:] or sorted(gt)
    out = {}
    for task in tasks:
        parts = {"energy": {}, "lda": {}, "nuc": {}, "ncc": {}, "vc": {}}
        for model in sorted(gt[task]):
            X = np.load(os.path.join(zoo, "%s_%s_feature.npy" % (model, task)))
            if os.environ.get("AS_FLOAT64"):
                X = X.astype(np.float64)
            y = np.load(os.path.join(zoo, "%s_%s_label.npy" % (model, task)))
            with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
                parts["energy"][model] = float(etran.Energy_Score(X, 0.5, "bot"))
                parts["lda"][model] = float(etran.LDA_Score(X, y))
                nuc, ncc, vc = ncti.NCTI_Score(X, y)
            parts["nuc"][model], parts["ncc"][model], parts["vc"][model] = nuc, ncc, vc
        e, l = minmax(parts["energy"]), minmax(parts["lda"])
        a, c, v = minmax(parts["nuc"]), minmax(parts["ncc"]), minmax(parts["vc"])
        models = sorted(gt[task])
        res = {}
        for name, s in (("etran", {m: 0.15 * e[m] + 0.85 * l[m] for m in models}),
                        ("ncti", {m: c[m] + a[m] - v[m] for m in models})):
            tau = weightedtau([s[m] for m in models], [gt[task][m] for m in models])[0]
            res[name] = {"scores": s, "weighted_tau": float(tau)}
        res["parts"] = parts
        out[task] = res
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
