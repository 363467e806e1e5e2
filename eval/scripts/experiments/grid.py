import numpy as np, sys
sys.argv = ['x']; exec(open('/tmp/s2/sf_eval.py').read().split("if __name__")[0])
from ranx import Qrels, Run, evaluate
G = np.load('/tmp/s2/seedfeat.npz'); R_ = G['R']; sid = G['ids']
odd = [i for i, q in enumerate(sid) if int(q[1:]) % 2 == 1]; even = [i for i, q in enumerate(sid) if int(q[1:]) % 2 == 0]
GB = G['B']
def seedm(sc, idx):
    r5 = mrr = 0
    for i in idx:
        order = np.argsort(-sc[i], kind='stable')[:10]
        rk = next((n + 1 for n, r in enumerate(order) if R_[i, r]), None)
        if rk: mrr += 1 / rk; r5 += rk <= 5
    return r5 / len(idx), mrr / len(idx)
feat = sys_feat = 'L'
for a in (0.4, 0.5, 0.6):
    for w in (0.1, 0.15, 0.2, 0.25):
        fn = lambda i, c: a * D[i, c] + (1 - a) * L[i, c] + w * Bn[i, c]
        tr = evaluate(Qrels(qrels['train']), Run(run_of(fn, 'train')), ['ndcg@10'])
        sc = a * G['D'] + (1 - a) * G['L'] + w * GB
        print(f"late a={a} w={w}: sf-train nDCG {tr:.4f} | seed-odd R@5 %.3f MRR %.3f | seed-even R@5 %.3f MRR %.3f" % (seedm(sc, odd) + seedm(sc, even)), flush=True)
