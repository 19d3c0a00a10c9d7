"""Rebuild data/chess/ (the shipped chess corpus, SPEC §2.2) from Debian's gnuchess-book source package.

Fetch the source without touching the system's apt configuration (a private deb-src list), then build with a
Python that has python-chess (`pip install chess`) and this package (`pip install -e .` or PYTHONPATH=lib):

    mkdir -p /tmp/apt/lists /tmp/apt/cache/archives/partial && cd /tmp/apt
    echo "deb-src http://deb.debian.org/debian bookworm main" > sources.list
    APT="-o Dir::Etc::SourceList=$PWD/sources.list -o Dir::Etc::SourceParts=/dev/null
         -o Dir::State::Lists=$PWD/lists -o Dir::Cache=$PWD/cache"
    apt-get $APT update && apt-get $APT source --download-only gnuchess-book
    python scripts/build_chess_corpus.py /tmp/apt/gnuchess-book_1.02.orig.tar.gz            # into data/chess
    python scripts/build_chess_corpus.py /tmp/apt/gnuchess-book_1.02.orig.tar.gz --out DIR  # a check build

Only the upstream tarball is read: the Debian packaging tarball carries no games (where a mirror lacks it,
apt-get reports that one failure and still leaves the upstream tarball in the current folder). The output is a function
of the PGN, the seed, python-chess's SAN/FEN and liblzma's xz encoder at fixed settings: the script prints
the sha256 of every file so two builds can be compared, and cross-checks that `prepare_from_lines` (the path
a user's PGN takes) yields the same train.bin/test.bin as `materialize` of the files written here.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import lzma
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from supercollapse import paths
from supercollapse.engine.tasks.chess import (DataError, encode_lines, materialize, prepare_from_lines, read_pgn,
                                              split_games)

PACKAGE, VERSION = "gnuchess-book", "1.02-2.1"
TARBALL, TARBALL_SHA256 = "gnuchess-book_1.02.orig.tar.gz", "d673ffa6986a3beca27cc23ef126ea0a73f1098762e3ccd00f791c096f2bfb48"
PGN, PGN_SHA256 = "gnuchess-book-1.02/book_1.02.pgn", "33f5d31528f3c93c18adffa7a222b9b9d6097c2ae231147de2048acff5e06583"
SEED = 0  # the shuffle before the game-level split (SPEC §2.2: the book is sorted by player name)
N_TEST = 4096  # test games
XZ = dict(format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=9 | lzma.PRESET_EXTREME)  # single-threaded: reproducible


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_source(path: Path) -> bytes:
    """book_1.02.pgn from the upstream tarball, checked against the recorded sha256 of both."""
    raw = path.read_bytes()
    if sha256(raw) != TARBALL_SHA256:
        raise DataError(f"{path}: sha256 {sha256(raw)} is not that of {TARBALL} {VERSION} ({TARBALL_SHA256})")
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        pgn = tar.extractfile(PGN).read()
    if sha256(pgn) != PGN_SHA256:
        raise DataError(f"{path}: {PGN} has sha256 {sha256(pgn)}, expected {PGN_SHA256}")
    return pgn


def build(source: Path, out: Path) -> dict:
    import chess  # recorded: the canonical SAN and FEN are python-chess's

    pgn = read_source(source)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "book_1.02.pgn").write_bytes(pgn)
        t0 = time.perf_counter()
        games = list(read_pgn(Path(tmp) / "book_1.02.pgn"))
        seconds = time.perf_counter() - t0
    print(f"replayed {len(games)} games in {seconds:.0f} s ({len(games) / seconds:.0f} games/s)")
    record = {
        "source": {"name": f"Debian {PACKAGE} {VERSION}: book_1.02.pgn", "package": PACKAGE, "version": VERSION,
                   "tarball": TARBALL, "tarball_sha256": TARBALL_SHA256, "pgn": PGN, "pgn_sha256": PGN_SHA256,
                   "games": len(games)},
        "seed": SEED, "format": "moves|WhiteElo|BlackElo|FEN", "python_chess": chess.__version__,
        "xz_settings": "FORMAT_XZ, CHECK_CRC64, preset 9 | PRESET_EXTREME (xz -9e), single-threaded",
        "xz": {}, "bins": {},
    }
    out.mkdir(parents=True, exist_ok=True)
    train, test = split_games(len(games), seed=SEED, n_test=N_TEST)
    for split, idx in (("train", train), ("test", test)):
        text = "".join(games[i][1] + "\n" for i in idx).encode("ascii")
        t0 = time.perf_counter()
        xz = lzma.compress(text, **XZ)
        print(f"{split}: {len(text)} bytes of text -> {len(xz)} bytes of xz in {time.perf_counter() - t0:.0f} s")
        (out / f"{split}.txt.xz").write_bytes(xz)
        tokens, n_games = encode_lines(text, name=split)
        record["xz"][split] = {"file": f"{split}.txt.xz", "sha256": sha256(xz), "bytes": len(xz)}
        record["bins"][split] = {"sha256": sha256(tokens.tobytes()), "games": n_games, "tokens": len(tokens)}
    (out / "corpus.json").write_text(json.dumps(record, indent=1) + "\n")
    with tempfile.TemporaryDirectory() as tmp:  # the shipped files and a user's preparation agree
        a = json.loads((materialize(Path(tmp) / "a", corpus=out) / "meta.json").read_text())["sha256"]
        b = prepare_from_lines(games, Path(tmp) / "b", seed=SEED, n_test_games=N_TEST, source="check")
        if json.loads((b / "meta.json").read_text())["sha256"] != a:
            raise SystemExit("materialize and prepare_from_lines disagree")
    return record


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", type=Path, help=f"the upstream tarball {TARBALL}")
    p.add_argument("--out", type=Path, default=paths.DATA / "chess", help="output folder (default data/chess)")
    args = p.parse_args(argv)
    try:
        build(args.source, args.out)
    except DataError as e:
        sys.exit(f"error: {e}")
    for f in sorted(args.out.iterdir()):
        if f.suffix in (".xz", ".json"):
            print(f"{sha256(f.read_bytes())}  {f.stat().st_size:>10}  {f.name}")


if __name__ == "__main__":
    main()
