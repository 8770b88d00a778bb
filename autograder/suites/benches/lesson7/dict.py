d = {}
for i in range(300000):
    d['k%d' % ((i * 7919) % 1000003)] = [i, str(i) * 3]
print(len(sorted(d)))
