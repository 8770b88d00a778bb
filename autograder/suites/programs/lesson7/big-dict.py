d = {}
for i in range(300000):
    d['k%d' % ((i * 7919) % 1000003)] = [i, str(i) * 3]
keys = sorted(d, key=lambda k: (len(k), k))
print(len(d), keys[:3], keys[-3:], sum(v[0] for v in d.values()))
