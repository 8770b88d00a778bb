import threading
out = [None] * 4
def work(t):
    xs = [str(i * t) for i in range(100000)]
    xs.sort()
    out[t] = (len(xs), xs[0], xs[-1], len(''.join(xs)))
ts = [threading.Thread(target=work, args=(t,)) for t in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print(out)
