#!/usr/bin/env python3
"""check_layout.py finds what it is meant to find: on a small made-up tree
with one mistake of each kind it fails and names each one; on the same tree
without them it passes."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, 'check_layout.py')


def write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w') as f:
        f.write(text)


def make_tree(root, bad):
    parts = ['base', 'core', 'kafka']
    write(root, 'daemon/README.md', ' '.join('`%s/`' % p for p in parts) + '\n')
    # The bad tree's architecture document forgets the kafka part.
    write(root, 'docs/architecture.md',
          ''.join('`daemon/%s/` owns %s.\n' % (p, p) for p in parts if not (bad and p == 'kafka')))
    for p in parts:
        write(root, 'daemon/%s/README.md' % p, '`%s.c` `%s.h`\n' % (p, p))
        write(root, 'daemon/%s/%s.h' % (p, p), '/* %s.h */\n' % p)
    body = '\n'.join('    x += %d;' % i for i in range(160 if bad else 100))
    write(root, 'daemon/base/base.c',
          '#include "base/base.h"\n\nint f(int x)\n{\n%s\n    return x;\n}\n' % body)
    inc = '"kafka/kafka.h"' if bad else '"base/base.h"'
    write(root, 'daemon/core/core.c', '#include %s\n#include "core/core.h"\n' % inc)
    table = 'static const int t[] = {\n%s\n};\n' % '\n'.join('    %d,' % i for i in range(200))
    write(root, 'daemon/kafka/kafka.c', '#include "core/core.h"\n' + table)
    if bad:
        write(root, 'daemon/kafka/extra.c', '\n' * 901)


def run(root):
    p = subprocess.run([sys.executable, CHECK, root], capture_output=True, text=True)
    return p.returncode, p.stdout


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as good, tempfile.TemporaryDirectory() as bad:
        make_tree(good, False)
        rc, out = run(good)
        if rc != 0:
            print('FAIL: a clean tree is refused:\n' + out)
            failures += 1
        make_tree(bad, True)
        rc, out = run(bad)
        expected = ['core may not include kafka', 'function of 16', 'extra.c: 901 lines',
                    'daemon/kafka/README.md: does not name extra.c',
                    'docs/architecture.md: does not name daemon/kafka/']
        if rc != 1:
            print('FAIL: a broken tree passes (exit %d):\n%s' % (rc, out))
            failures += 1
        for e in expected:
            if e not in out:
                print('FAIL: no finding "%s" in:\n%s' % (e, out))
                failures += 1
    print('%d passed, %d failed' % (3 - min(failures, 3), min(failures, 3)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
