#!/usr/bin/env python3
"""Keeps the prose true to the tree. Three checks, all over the working tree (no build):

  paths       every file or folder path named in a Markdown file or in a comment of a
              source file exists (relative to the repository root, to the naming file's
              own folder, or, for a name without a folder, somewhere in the tree);
  test-index  tests/README.md names every test source file, every file it names exists,
              and every `Suite.Name` it names is a TEST/TEST_F/TEST_P in a named file;
  layering    no program folder (admin, bridge, publisher, ...) #includes a file of
              another program's folder or links a target another program's folder
              defines: what programs share lives in common/ (docs/ARCHITECTURE.md),
              except the uses PROGRAM_USES_ALLOWED names.

Usage: tests/docs/check_docs.py [--root DIR] [paths|test-index|layering ...]   (default: all)
Exit status 0 when every check holds, 1 with one line per broken reference otherwise.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import sys
from pathlib import Path

# Folders that hold no prose of ours, or only generated files.
SKIPPED_DIRS = {".git", "build", "node_modules", "__pycache__", ".cache", ".ci-cache"}

# Path-like names that are not files of this tree: generated at build time, written by a
# command the text shows, or an example of a user's own file. Each entry is an fnmatch
# pattern matched against the whole token.
ALLOWED = [
    "build/*",                  # build outputs (build/bin, build/release/..., build/node/...)
    "*/build/*",
    "market_quote_book.hpp",    # headers that shmsnap-schemac generates from schemas/*.toml
    "robot_pose.hpp",
    "service_health.hpp",
    "all_types.hpp",
    "consumer_tick.hpp",
    "my_quotes.hpp",            # the README's example of a user's schema and its header
    "schemas/quotes.toml",
    "shmsnap_version.hpp",      # configured by CMake
    "shmsnapConfig.cmake",      # written by the install step
    "shmsnapConfigVersion.cmake",
    "shmsnapTargets.cmake",
    "compile_commands.json",    # written by CMake into the build folder
    "*.mcap",                   # recordings that the documented commands write
    "risk.jsonl",
    "quick.json", "quick.csv",  # shmsnap-bench output names in its usage text
    "package-lock.json",
    "dashboard.png",            # the dashboard test's screenshot (in the build folder)
    "dist/*",                   # Python wheels
    "bin/",                     # the build's bin folder, in run_fuzzers.sh
    "share/shmsnap/schemas/",   # where the install step puts the bundled schemas
    "share/shmsnap/prometheus/",  # and the alerting rules
    "schemas/bad.toml",         # schema files of the error-message and command examples
    "schemas/order.toml",
    "schemas/fill.toml",
    "a_b_quote_book.hpp",       # the header name schemas/README.md derives from an example
    "file.cpp",                 # embed_assets.cmake's usage line
    "F.png", "out.png",         # output names in usage lines
    "Node.js",                  # a product name, not a file
    "include/uapi/linux/magic.h",  # a header of the Linux kernel's tree
    "docs/spec.md",             # a file of github.com/foxglove/ws-protocol
]

# A path token: an optional ./ or ../ prefix, then path characters, with either a
# folder separator or a known file extension. Globs (`*`) are allowed.
EXTENSIONS = ("cpp", "hpp", "h", "md", "py", "sh", "toml", "cmake", "txt", "pml", "service",
              "cjs", "mjs", "js", "html", "css", "png", "yml", "yaml", "in", "dict", "json")
TOKEN = re.compile(r"(?<![\w./*<>:@%$-])((?:\.\.?/)*[A-Za-z0-9_*][A-Za-z0-9_.*+-]*(?:/[A-Za-z0-9_.*+-]+)*/?)")
EXT_RE = re.compile(r"\.(" + "|".join(EXTENSIONS) + r")$")

SOURCE_SUFFIXES = {".cpp", ".hpp", ".h", ".cc", ".c", ".pml", ".js", ".cjs", ".mjs", ".css"}
HASH_COMMENT_SUFFIXES = {".cmake", ".sh", ".py", ".toml", ".yml", ".yaml", ".service"}
HASH_COMMENT_NAMES = {"CMakeLists.txt", "run", ".clang-tidy", ".clang-format"}


def tree_files(root: Path) -> list[str]:
    """Every file under root, as POSIX paths relative to it, skipping build outputs."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("build"))
        rel = Path(dirpath).relative_to(root)
        for name in filenames:
            found.append((rel / name).as_posix() if rel != Path(".") else name)
    return sorted(found)


def cpp_comments(text: str) -> list[tuple[int, str]]:
    """(line, text) of every // and /* */ comment, skipping string and character
    literals (raw strings included), so a URL or a path inside a string is not read."""
    out = []
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append((line, text[i + 2:end]))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end
            for offset, part in enumerate(text[i + 2:end].split("\n")):
                out.append((line + offset, part))
            line += text.count("\n", i, end)
            i = end + 2
        elif c == "R" and i + 1 < n and text[i + 1] == '"' and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            open_paren = text.find("(", i + 2)
            delimiter = text[i + 2:open_paren]
            end = text.find(")" + delimiter + '"', open_paren)
            end = n if end < 0 else end + len(delimiter) + 2
            line += text.count("\n", i, end)
            i = end
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator 1'000
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            i += 1
    return out


def hash_comments(text: str) -> list[tuple[int, str]]:
    """(line, text) after a # that starts a comment (not inside quotes, not #include)."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        quote = None
        for k, c in enumerate(raw):
            if quote:
                if c == quote:
                    quote = None
            elif c in "\"'":
                quote = c
            elif c == "#" and (k == 0 or raw[k - 1] in " \t"):
                out.append((number, raw[k + 1:]))
                break
    return out


def prose_of(path: Path) -> list[tuple[int, str]]:
    """The lines of a file whose path names the check reads: all of a Markdown file,
    the comments of a source, CMake, shell or Python file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []
    if path.suffix == ".md":
        # Links' targets are paths too; their anchors are not.
        return [(k, re.sub(r"#[\w-]+\)", ")", t)) for k, t in enumerate(text.splitlines(), 1)]
    if path.suffix in SOURCE_SUFFIXES:
        return cpp_comments(text)
    if path.suffix in HASH_COMMENT_SUFFIXES or path.name in HASH_COMMENT_NAMES:
        return hash_comments(text)
    return []


def candidates(text: str) -> list[str]:
    """Tokens in text that look like a path of this tree."""
    found = []
    for match in TOKEN.finditer(text):
        token = match.group(1).rstrip(".")
        end = match.end(1)
        after = text[end:end + 1]
        if after in ("(", ":") and not token.endswith("/"):   # a call, a scope or a URL scheme
            if after == "(" or text[end:end + 3] == "://":
                continue
        if "//" in token or token.startswith("*"):
            continue
        stem = Path(token.rstrip("/")).name.split(".")[0]
        if stem.isupper() and len(stem) > 1 and stem not in ("README", "DESIGN", "ARCHITECTURE", "CHANGELOG"):
            continue   # a placeholder in a usage line: FILE.toml, DIR/
        pair = re.fullmatch(r"(.*)\.(\w+)/\.(\w+)", token)
        if pair:   # "exporter.hpp/.cpp": both files
            found += [f"{pair.group(1)}.{pair.group(2)}", f"{pair.group(1)}.{pair.group(3)}"]
            continue
        if "/" in token:
            first = token.lstrip("./").split("/")[0]
            # A folder-qualified name is only a path when it names a file (extension)
            # or ends in a slash ("tests/unit/"); "read/write" and "p50/p99" are words.
            if not (EXT_RE.search(token) or token.endswith("/")):
                continue
            if not first or first[0].isdigit():
                continue
        elif not EXT_RE.search(token):
            continue
        found.append(token)
    return found


class Tree:
    def __init__(self, root: Path):
        self.root = root
        self.files = tree_files(root)
        self.dirs = {Path(f).parent.as_posix() for f in self.files}
        for d in list(self.dirs):
            parts = d.split("/")
            for k in range(1, len(parts)):
                self.dirs.add("/".join(parts[:k]))
        self.basenames = {Path(f).name for f in self.files}
        self.top = {f.split("/")[0] for f in self.files}

    def exists(self, rel: str) -> bool:
        rel = os.path.normpath(rel).replace(os.sep, "/")
        if rel.startswith(".."):
            return False
        if any(ch in rel for ch in "*?["):
            return any(fnmatch.fnmatch(f, rel) for f in self.files) or any(fnmatch.fnmatch(d, rel) for d in self.dirs)
        return rel in self.dirs or (self.root / rel).exists()

    def resolves(self, token: str, source: str) -> bool:
        """True when token names something in the tree, read from the file `source`."""
        if any(fnmatch.fnmatch(token, pattern) for pattern in ALLOWED):
            return True
        bare = token.rstrip("/")
        base_dir = Path(source).parent.as_posix()
        if token.endswith("/") and "/" not in bare:
            # A bare folder name ("detail/", "publisher/"): beside its source, or any folder so named.
            return self.exists(f"{base_dir}/{bare}") or any(d.split("/")[-1] == bare for d in self.dirs)
        if "/" not in bare:
            # A bare file name: beside its source, or anywhere in the tree.
            if any(ch in bare for ch in "*?["):
                return any(fnmatch.fnmatch(Path(f).name, bare) for f in self.files)
            return bare in self.basenames or self.exists(f"{base_dir}/{bare}")
        if self.exists(bare) or self.exists(f"{base_dir}/{bare}"):
            return True
        if bare.startswith("."):
            return False
        first = bare.split("/")[0]
        if first in self.top:
            return False   # rooted at one of our top-level folders: it must exist there
        # A path relative to an include directory or a folder the text is about
        # ("shmsnap/seqlock.hpp", "detail/protocol.hpp", "bench/*_transport.cpp").
        pattern = "*/" + bare
        return any(fnmatch.fnmatch(f, pattern) for f in self.files) or any(fnmatch.fnmatch(d, pattern) for d in self.dirs)


def check_paths(tree: Tree) -> list[str]:
    problems = []
    for source in tree.files:
        if source.startswith(("tests/fuzz/corpus/", "benchmarks/results/")):
            continue
        for line, text in prose_of(tree.root / source):
            for token in candidates(text):
                if not tree.resolves(token, source):
                    problems.append(f"{source}:{line}: names '{token}', which does not exist")
    return problems


# --- the test index ---------------------------------------------------------------

INDEX = "tests/README.md"
# What counts as a test source: a file that defines tests or is a test program.
TEST_SOURCE_PATTERNS = [
    "tests/*_test.cpp", "tests/*/*_test.cpp",
    "tests/fuzz/fuzz_*.cpp",
    "tests/chaos/chaos_main.cpp",
    "tests/model/*.pml",
    "tests/install/consumer/main.cpp",
    "tests/node/*/*_test.cjs", "tests/node/*/check_*.cjs",
    "python/tests/test_*.py",
    "benchmarks/smoke_check.sh",
    "tests/docs/*.py",
]
TEST_MACRO = re.compile(r"\b(?:TEST|TEST_F|TEST_P|TYPED_TEST)\(\s*(\w+)\s*,\s*(\w+)\s*\)")


def check_test_index(tree: Tree) -> list[str]:
    index_path = tree.root / INDEX
    if not index_path.exists():
        return [f"{INDEX}: missing (it indexes the tests by feature)"]
    text = index_path.read_text(encoding="utf-8")
    # Folders ("unit/") are the paths check's business; this one wants the files.
    named = {t for t in candidates(text) if "/" in t and not t.endswith("/")}
    problems = []
    sources = [f for f in tree.files if any(fnmatch.fnmatchcase(f, p) for p in TEST_SOURCE_PATTERNS)]
    for source in sources:
        if source not in named:
            problems.append(f"{INDEX}: does not list the test source {source}; add it under its feature")
    for name in sorted(named):
        if not tree.exists(name):
            problems.append(f"{INDEX}: lists {name}, which does not exist")
    # Every `Suite.Name` the index cites must be defined in a C++ test file it lists.
    defined = set()
    for name in named:
        if name.endswith(".cpp") and tree.exists(name):
            for suite, test in TEST_MACRO.findall((tree.root / name).read_text(encoding="utf-8")):
                defined.add(f"{suite}.{test}")
    for number, line in enumerate(text.splitlines(), 1):
        for cited in re.findall(r"`([A-Z]\w+\.[A-Z]\w+)`", line):
            if cited not in defined and cited != "Suite.Name":   # the placeholder in the how-to
                problems.append(f"{INDEX}:{number}: cites test {cited}, which no listed file defines")
    return problems


# --- the layering ------------------------------------------------------------------

# The folders of the programs; each is an ordinary client of lib/ and common/.
PROGRAM_DIRS = ["admin", "benchmarks", "bridge", "examples", "publisher", "python", "recording", "schemas",
                "serve", "subscriber"]
# The documented exceptions (docs/ARCHITECTURE.md): the operator tool registers the
# commands of recording/ and serve/; the Python package reads TOML schemas through the
# schema compiler's own front end, so both agree byte for byte.
PROGRAM_USES_ALLOWED = {("admin", "recording"), ("admin", "serve"), ("python", "schemas")}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.MULTILINE)
TARGET_DEFINITION = re.compile(r"\badd_(?:library|executable)\(\s*([A-Za-z0-9_.:+-]+)")
LINK = re.compile(r"\btarget_link_libraries\(\s*[A-Za-z0-9_.:+-]+([^)]*)\)", re.DOTALL)
CMAKE_NAMES = ("CMakeLists.txt",)


def program_of(path: str) -> str | None:
    first = path.split("/")[0]
    return first if first in PROGRAM_DIRS else None


def check_layering(tree: Tree) -> list[str]:
    problems = []
    # Which program folder each target is defined in.
    owner_of_target: dict[str, str] = {}
    for path in tree.files:
        program = program_of(path)
        if program and (Path(path).name in CMAKE_NAMES or path.endswith(".cmake")):
            for target in TARGET_DEFINITION.findall((tree.root / path).read_text(encoding="utf-8")):
                owner_of_target[target] = program
    # Which folders hold a file of each name an #include may reach through an include directory.
    holders: dict[str, set[str]] = {}
    for path in tree.files:
        holders.setdefault(Path(path).name, set()).add(path)
    for path in tree.files:
        program = program_of(path)
        if program is None:
            continue
        suffix = Path(path).suffix
        text = None
        if suffix in {".cpp", ".hpp", ".h", ".cc", ".c"}:
            text = (tree.root / path).read_text(encoding="utf-8", errors="replace")
            for included in INCLUDE.findall(text):
                if tree.exists(f"{Path(path).parent.as_posix()}/{included}"):
                    continue   # beside the including file
                candidates_ = {f for f in holders.get(Path(included).name, set()) if f.endswith("/" + included)
                               or f == included}
                owners = {program_of(f) for f in candidates_}
                if not candidates_ or program in owners or None in owners:
                    continue   # its own, lib/'s, common/'s, or generated at build time
                for other in sorted(o for o in owners if o is not None):
                    if (program, other) not in PROGRAM_USES_ALLOWED:
                        problems.append(f"{path}: includes \"{included}\" from {other}/, another program's folder; "
                                        f"move what both need into common/")
        elif Path(path).name in CMAKE_NAMES or suffix == ".cmake":
            text = (tree.root / path).read_text(encoding="utf-8")
            for arguments in LINK.findall(text):
                for token in re.findall(r"[A-Za-z0-9_.:+-]+", arguments):
                    other = owner_of_target.get(token)
                    if other and other != program and (program, other) not in PROGRAM_USES_ALLOWED:
                        problems.append(f"{path}: links {token}, a target of {other}/, another program's folder; "
                                        f"move what both need into common/")
    return problems


CHECKS = {"paths": check_paths, "test-index": check_test_index, "layering": check_layering}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("checks", nargs="*", metavar="CHECK", help="paths, test-index, layering (default: all)")
    args = parser.parse_args()
    unknown = [name for name in args.checks if name not in CHECKS]
    if unknown:
        parser.error(f"unknown check {', '.join(unknown)}; the checks are {', '.join(CHECKS)}")
    tree = Tree(args.root.resolve())
    failed = 0
    for name in args.checks or CHECKS:
        problems = CHECKS[name](tree)
        for problem in problems:
            print(problem)
        print(f"docs check {name}: {'ok' if not problems else f'FAILED ({len(problems)})'}")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
