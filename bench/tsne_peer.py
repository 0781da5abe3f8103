"""scikit-learn's TSNE on an .npy file: prints its KL divergence (bench/tsne.sh times the
process). The settings are pedlab's defaults: perplexity 30, early exaggeration 12, learning
rate auto, 1000 iterations, PCA init, Barnes-Hut with angle 0.5; n_jobs = the thread count."""
import sys

import numpy as np
from sklearn.manifold import TSNE

X = np.load(sys.argv[1]).astype(np.float64)
t = TSNE(n_components=2, perplexity=30.0, early_exaggeration=12.0, learning_rate="auto",
         n_iter=1000, init="pca", method="barnes_hut", angle=0.5, random_state=0,
         n_jobs=int(sys.argv[2]))
t.fit_transform(X)
print("%.6f" % t.kl_divergence_)
