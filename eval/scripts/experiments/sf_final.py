import sys
sys.argv = ['x']; exec(open('/tmp/s2/sf_eval.py').read().split("if __name__")[0])
ev('dense', lambda i, c: D[i, c]); ev('bm25', lambda i, c: B[i, c]); ev('rrf60', rrf_fn)
for a, w in [(0.5, 0.3), (0.4, 0.15), (0.3, 0.0)]:
    ev(f'separate a={a} w={w}', lambda i, c: a * D[i, c] + (1 - a) * S[i, c] + w * Bn[i, c])
    ev(f'late a={a} w={w}', lambda i, c: a * D[i, c] + (1 - a) * L[i, c] + w * Bn[i, c])
    ev(f'both a={a} w={w}', lambda i, c: a * D[i, c] + (1 - a) * (S[i, c] + L[i, c]) / 2 + w * Bn[i, c])
ev('sentence only (late)', lambda i, c: L[i, c]); ev('sentence only (separate)', lambda i, c: S[i, c])
