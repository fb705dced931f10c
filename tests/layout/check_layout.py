#!/usr/bin/env python3
"""The source tree keeps its shape (docs/architecture.md, daemon/README.md).

Checks, over every file under daemon/:
  - includes: a part includes only the parts it may (ALLOWED below, the same
    table as daemon/README.md); "part/name.h" is the only form for the
    project's own headers;
  - READMEs: every file is named in its folder's README.md, and every part's
    README exists;
  - size: no source file over 900 lines, no function over 150 lines (tables,
    i.e. initialised arrays and structs, are not functions);
  - docs: docs/architecture.md names every part folder ("daemon/core/").
Prints one line per finding; exit 1 when there is any.
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), '..', '..'))
DAEMON = os.path.join(ROOT, 'daemon')
ARCHITECTURE = os.path.join(ROOT, 'docs', 'architecture.md')

# part -> the parts its files may include (itself always allowed).
ALLOWED = {
    'base': set(),
    'core': {'base'},
    'train': {'core', 'base'},
    'config': {'base'},
    'kafka': {'core', 'config', 'base'},
    'service': {'kafka', 'core', 'config', 'base'},
    'cli': {'train', 'kafka', 'core', 'config', 'base'},
}
MAX_FILE_LINES = 900
MAX_FUNC_LINES = 150

findings = []


def rel(p):
    return os.path.relpath(p, ROOT)


def check_includes(part, path, text):
    for n, line in enumerate(text.split('\n'), 1):
        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
        if not m:
            continue
        inc = m.group(1)
        if '/' not in inc:
            findings.append('%s:%d: include "%s" without its part; write "part/%s"'
                            % (rel(path), n, inc, inc))
            continue
        target = inc.split('/')[0]
        if target not in ALLOWED:
            findings.append('%s:%d: include "%s": no part named %s' % (rel(path), n, inc, target))
        elif target != part and target not in ALLOWED[part]:
            findings.append('%s:%d: %s may not include %s ("%s"); allowed: %s'
                            % (rel(path), n, part, target, inc,
                               ', '.join(sorted(ALLOWED[part])) or 'nothing'))


def check_sizes(path, text):
    lines = text.split('\n')
    if text.endswith('\n'):
        lines = lines[:-1]
    if len(lines) > MAX_FILE_LINES:
        findings.append('%s: %d lines (at most %d)' % (rel(path), len(lines), MAX_FILE_LINES))
    if not path.endswith(('.c', '.cc', '.cpp')):
        return
    start = None
    for i, line in enumerate(lines):
        if line == '{' and start is None:
            # A function body opens with "{" alone in column 0 (.clang-format:
            # Linux braces) after a signature ending in ")"; an initialised
            # table ends its first line with "= {" instead.
            j = i - 1
            while j >= 0 and lines[j].strip() == '':
                j -= 1
            if j >= 0 and lines[j].rstrip().endswith(')'):
                k = j
                while k > 0 and lines[k - 1].strip() and not lines[k - 1].startswith(
                        ('}', '#', '/', ' *', '*')) and not lines[k - 1].rstrip().endswith(';'):
                    k -= 1
                start = (k, lines[k].strip())
        elif line.startswith('}') and start is not None:
            length = i - start[0] + 1
            if length > MAX_FUNC_LINES:
                findings.append('%s:%d: function of %d lines (at most %d): %s'
                                % (rel(path), start[0] + 1, length, MAX_FUNC_LINES,
                                   start[1][:60]))
            start = None


def check_readme(folder, files):
    readme = os.path.join(folder, 'README.md')
    if not os.path.exists(readme):
        findings.append('%s: missing (each part says what it owns and may include)' % rel(readme))
        return
    text = open(readme, encoding='utf-8').read()
    for f in files:
        if f in ('README.md',):
            continue
        if not re.search(r'(?<![\w./-])' + re.escape(f) + r'(?![\w-])', text):
            findings.append('%s: does not name %s' % (rel(readme), f))


def check_architecture(parts):
    if not os.path.exists(ARCHITECTURE):
        findings.append('%s: missing (it follows one message through the parts)'
                        % rel(ARCHITECTURE))
        return
    text = open(ARCHITECTURE, encoding='utf-8').read()
    for d in parts:
        name = 'daemon/%s/' % d
        if not re.search(r'(?<![\w./-])' + re.escape(name), text):
            findings.append('%s: does not name %s (say what the part owns)'
                            % (rel(ARCHITECTURE), name))


def main():
    if not os.path.isdir(DAEMON):
        print('check_layout: no daemon/ under %s' % ROOT)
        return 2
    parts = sorted(d for d in os.listdir(DAEMON) if os.path.isdir(os.path.join(DAEMON, d)))
    for d in parts:
        if d not in ALLOWED:
            findings.append('daemon/%s: a part that daemon/README.md and this check do not know' % d)
    top = sorted(f for f in os.listdir(DAEMON) if os.path.isfile(os.path.join(DAEMON, f)))
    check_readme(DAEMON, top + [d + '/' for d in parts])
    check_architecture(parts)
    nfiles = 0
    for d in parts:
        folder = os.path.join(DAEMON, d)
        files = sorted(os.listdir(folder))
        check_readme(folder, files)
        for f in files:
            path = os.path.join(folder, f)
            if not os.path.isfile(path) or not f.endswith(('.c', '.h', '.cc', '.cpp')):
                continue
            nfiles += 1
            text = open(path, encoding='utf-8').read()
            if d in ALLOWED:
                check_includes(d, path, text)
            check_sizes(path, text)
    for line in findings:
        print(line)
    print('check_layout: %d source files in %d parts, %d findings'
          % (nfiles, len(parts), len(findings)))
    return 1 if findings else 0


if __name__ == '__main__':
    sys.exit(main())
