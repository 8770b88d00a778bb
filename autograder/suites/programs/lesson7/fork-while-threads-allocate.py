import os, threading
stop = False
def churn():
    while not stop:
        [bytes(64) for _ in range(100)]
ts = [threading.Thread(target=churn) for _ in range(2)]
[t.start() for t in ts]
ok = 0
for i in range(30):
    pid = os.fork()
    if pid == 0:
        x = [str(j) for j in range(1000)]
        os._exit(0 if len(x) == 1000 else 1)
    _, status = os.waitpid(pid, 0)
    ok += status == 0
stop = True
[t.join() for t in ts]
print('children ok:', ok)
