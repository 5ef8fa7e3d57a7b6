"""Cross-check of the `index` benchmark's HNSW recall curve with another HNSW library (hnswlib).

Isotropic random unit vectors in 128 dimensions are the hardest case for graph search: nearest neighbours are barely
closer than random points. This script builds hnswlib's graph over the same kind of data as `index` (not the same
draws: another random generator) and prints recall@10 against exact search at each ef, so a low USearch recall can
be told apart from a binding problem. Queries/s here are hnswlib's own; compare speed ratios only from `index`.

    sudo apt-get install python3-hnswlib python3-numpy     # Debian 12: hnswlib 0.6.2
    /usr/bin/python3 tests/NoteLLM.MLNet.Benchmarks/Index/hnswlib_crosscheck.py 100000 16 128
"""
import sys
import time

import hnswlib
import numpy as np


def unit_vectors(rng, count, dimensions=128):
    v = rng.standard_normal((count, dimensions)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def main(n, connectivity, ef_construction, queries=1000):
    rng = np.random.default_rng(3)
    corpus, query = unit_vectors(rng, n), unit_vectors(rng, queries)
    truth = np.argpartition(-(query @ corpus.T), 10, axis=1)[:, :10]

    graph = hnswlib.Index(space="ip", dim=corpus.shape[1])
    graph.init_index(max_elements=n, ef_construction=ef_construction, M=connectivity)
    graph.set_num_threads(2)
    start = time.time()
    graph.add_items(corpus)
    print(f"hnswlib M={connectivity} efConstruction={ef_construction}: {n:,} vectors built in {time.time() - start:.1f} s")
    print("| ef | recall@10 | queries/s (2 threads) |\n|---|---|---|")
    for ef in (16, 32, 64, 128, 256, 512, 1024, 2048):
        graph.set_ef(ef)
        start = time.time()
        found, _ = graph.knn_query(query, k=10)
        seconds = time.time() - start
        recall = np.mean([len(set(found[i]) & set(truth[i])) / 10 for i in range(queries)])
        print(f"| {ef} | {recall:.3f} | {queries / seconds:,.0f} |")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
