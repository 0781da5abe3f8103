#!/usr/bin/python3
"""bench/peers/peer.py — time one official Python implementation on one .npy dataset.

    peer.py METRIC FEAT.npy LABELS.npy [REF.npy]
    METRIC: logme | sfda | ped+logme | ped+sfda | parc | nleep | etran_energy | etran_lda | ncti

The official code is imported, unmodified, from the checkouts the user names:
    LOGME_REPO  a checkout of thuml/LogME            (logme: LogME.LogME(regression=False).fit)
    PED_REPO    a checkout of lixiaotong97/PED       (metrics.SFDA_Score, PED_Score, PARC_Score,
                                                      NLEEP)
    ETRAN_REPO  a checkout of mgholamikn/ETran       (metrics.Energy_Score(X, 0.5, 'bot'),
                                                      LDA_Score)
    NCTI_REPO   a checkout of BUserName/NCTI         (metrics.NCTI_Score: its three parts, timed
                                                      together; sklearn's default PCA solver as
                                                      the official code runs it; NCTI_PCA=full:
                                                      the exact solver, as pedlab computes)
Nothing of theirs is copied into pedlab. PED's metrics.py imports torch and tqdm at the top (and
its utils.py imports torch and the repo's models package) although the functions timed here use
only NumPy/SciPy/scikit-learn: when torch / tqdm are not installed, empty stand-in modules are
registered under those names so the import succeeds (said on stderr).

Timed: from np.load of the files to the returned score (the official functions take arrays),
like `plbench run`, which times pedlab from opening the file. Their own prints go to /dev/null.
Prints `score=S seconds=T`, or `SKIP: reason` and exits 3.
"""
import contextlib
import importlib
import os
import sys
import time
import types


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(3)


def stub_missing(names):
    """Register empty stand-ins for modules that PED's files import but never use here."""
    stubbed = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            mod = types.ModuleType(name)
            if name == "torch":
                nn = types.ModuleType("torch.nn")
                nn.Module = object
                mod.nn = nn
                sys.modules["torch.nn"] = nn
            if name == "tqdm":
                mod.tqdm = lambda it, *a, **k: it
            sys.modules[name] = mod
            stubbed.append(name)
    return stubbed


def load_ped():
    repo = os.environ.get("PED_REPO")
    if not repo or not os.path.isfile(os.path.join(repo, "metrics.py")):
        skip("PED_REPO is not set to a checkout of lixiaotong97/PED (with metrics.py)")
    stubbed = stub_missing(["torch", "tqdm"])
    # utils.py imports the repo's models package (torchvision ResNets): not needed here.
    if "torch" in stubbed:
        for name in ("models", "models.group1"):
            sys.modules[name] = types.ModuleType(name)
        stubbed.append("models.group1")
    if stubbed:
        print("peer: stand-ins for unused imports of PED's metrics.py: " + ", ".join(stubbed),
              file=sys.stderr)
    sys.path.insert(0, repo)
    try:
        import metrics  # noqa: E402  (PED's metrics.py)
    except ImportError as e:
        skip("cannot import PED's metrics.py: %s" % e)
    return metrics


def load_metrics_py(var, what):
    """metrics.py of the checkout named by $var (ETran's and NCTI's import torch, which they use)."""
    repo = os.environ.get(var)
    if not repo or not os.path.isfile(os.path.join(repo, "metrics.py")):
        skip("%s is not set to a checkout of %s (with metrics.py)" % (var, what))
    try:
        import torch  # noqa: F401
    except ImportError:
        skip("%s's metrics.py needs torch (Debian: apt-get install python3-torch)" % what)
    sys.path.insert(0, repo)
    try:
        import metrics  # noqa: E402
    except ImportError as e:
        skip("cannot import %s's metrics.py: %s" % (what, e))
    return metrics


def load_logme():
    repo = os.environ.get("LOGME_REPO")
    if not repo or not os.path.isfile(os.path.join(repo, "LogME.py")):
        skip("LOGME_REPO is not set to a checkout of thuml/LogME (with LogME.py)")
    try:
        import numba  # noqa: F401
    except ImportError:
        skip("thuml's LogME.py needs numba (Debian: apt-get install python3-numba)")
    sys.path.insert(0, repo)
    import LogME  # noqa: E402  (thuml's LogME.py; jit-compiles at import, not timed)
    return LogME


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        sys.exit(2)
    metric, feat, lab = sys.argv[1:4]
    ref = sys.argv[4] if len(sys.argv) > 4 else None
    try:
        import numpy as np
        import scipy  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as e:
        skip("needs NumPy, SciPy and scikit-learn (Debian: python3-numpy python3-scipy "
             "python3-sklearn): %s" % e)
    if metric.startswith("ped+") and not ref:
        skip(metric + " needs REF.npy")

    if metric == "logme":
        mod = load_logme()

        def run(X, y, R):
            return mod.LogME(regression=False).fit(X, y)
    elif metric in ("etran_energy", "etran_lda"):
        mod = load_metrics_py("ETRAN_REPO", "mgholamikn/ETran")
        if metric == "etran_energy":
            def run(X, y, R):
                return mod.Energy_Score(X, 0.5, "bot")
        else:
            def run(X, y, R):
                return mod.LDA_Score(X, y)
    elif metric == "ncti":
        mod = load_metrics_py("NCTI_REPO", "BUserName/NCTI")
        if os.environ.get("NCTI_PCA") == "full":  # the exact solver of the fixtures' reference
            real_pca = mod.PCA
            mod.PCA = lambda n_components: real_pca(n_components=n_components, svd_solver="full")

        def run(X, y, R):
            return mod.NCTI_Score(X, y)[0]  # ncti_nuc; ncc and vc come out of the same call
    else:
        mod = load_ped()
        # PED's settings set1 (its evaluate_metric_cpu.py defaults; pedlab's defaults)
        ped = dict(exit_ratio=0.5, time_step=0.1, eps=1e-3, nsigma=0.6, constant=1.0)
        runs = {
            "sfda": lambda X, y, R: mod.SFDA_Score(X, y),
            "ped+logme": lambda X, y, R: mod.PED_Score(X, y, general_X=R, type="LOGME", **ped),
            "ped+sfda": lambda X, y, R: mod.PED_Score(X, y, general_X=R, type="SFDA", **ped),
            "parc": lambda X, y, R: mod.PARC_Score(X, y),
            "nleep": lambda X, y, R: mod.NLEEP(X, y),
        }
        if metric not in runs:
            skip("unknown metric " + metric)
        run = runs[metric]

    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        t0 = time.perf_counter()
        X = np.load(feat)
        y = np.load(lab)
        R = np.load(ref) if ref else None
        s = run(X, y, R)
        t = time.perf_counter() - t0
    print("score=%.12g seconds=%.4f" % (float(s), t))


if __name__ == "__main__":
    main()
