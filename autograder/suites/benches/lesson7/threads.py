import threading
def work(t):
    xs = sorted(str(i * t) for i in range(200000))
ts = [threading.Thread(target=work, args=(t,)) for t in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
