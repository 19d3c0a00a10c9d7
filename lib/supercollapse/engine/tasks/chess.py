"""Chess games as character-level token streams (SPEC §2.2).

A game is one text line: SAN moves, ``,`` after each white move and ``;`` after each black move, the result
as a last move, then ``|WhiteElo|BlackElo|FEN`` of the final position (``?`` for an unknown Elo). It is
encoded as BOS + characters + EOS; a dataset folder holds ``train.bin`` and ``test.bin`` (headerless uint8
token streams, the games concatenated) and ``meta.json``. Games are shuffled with a fixed seed before the
game-level split: ``split_games``. Replaying games (every move checked legal, the final FEN) needs python-chess,
an optional extra imported only by the functions that replay; the shipped corpus (``data/chess/``) needs nothing.
"""
from __future__ import annotations

import hashlib
import json
import lzma
import math
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ... import paths

BOS, EOS = 0, 1
# SPEC §2.2: the characters in this order after BOS and EOS; "b" is listed twice (file and bishop): kept once.
CHARS = "".join(dict.fromkeys(",;+#=?!\n /0123456789-xabcdefghKQRBNOP()lkv:*|rnbqpwm"))
V = 32 * math.ceil((2 + len(CHARS)) / 32)  # the embedding table's size: padded to a multiple of 32
RESULTS = ("1-0", "0-1", "1/2-1/2", "*")
CORPUS = paths.DATA / "chess"  # the shipped corpus: train.txt.xz, test.txt.xz, corpus.json
_UNKNOWN = 255  # marks a byte outside the vocabulary in the lookup table
_LUT = np.full(256, _UNKNOWN, np.uint8)
_LUT[np.frombuffer(CHARS.encode("ascii"), np.uint8)] = np.arange(2, 2 + len(CHARS), dtype=np.uint8)
_BLOCK = 1 << 24  # bytes per block when hashing or scanning large files


class DataError(ValueError):
    """Bad input data; the message is one line naming the file and what is valid."""


def _vocab_error(char: str, where: str) -> DataError:
    return DataError(f"{where}: character {char!r} is not in the chess vocabulary (valid: {CHARS!r})")


def encode_game(line: str, *, name: str = "game") -> np.ndarray:
    """One game line as uint8 tokens: BOS + characters + EOS; ``name`` names the game in errors."""
    raw = line.encode("utf-8")
    ids = _LUT[np.frombuffer(raw, np.uint8)]
    if len(raw) != len(line) or (ids == _UNKNOWN).any() or "\n" in line:
        bad = next(c for c in line if c == "\n" or c not in CHARS)
        raise _vocab_error(bad, name)
    return np.concatenate([[BOS], ids, [EOS]]).astype(np.uint8)


def decode_games(tokens: np.ndarray) -> list[str]:
    """The game lines of a token stream (inverse of concatenated ``encode_game``)."""
    chars = np.frombuffer(("\x02\x03" + CHARS).encode("ascii"), np.uint8)[np.asarray(tokens, np.uint8)]
    return [g.removeprefix("\x02") for g in chars.tobytes().decode("ascii").split("\x03")[:-1]]


def _elo(value) -> str:
    text = "" if value is None else str(value).strip()
    return text if text.isdigit() else "?"


def format_game(sans: Sequence[str], result: str, white_elo, black_elo, fen: str) -> str:
    """The SPEC §2.2 line of a game: its SAN moves, the result as a last move, Elos and final FEN."""
    moves = [*sans, result if result in RESULTS else "*"]
    return "".join(m + ",;"[i % 2] for i, m in enumerate(moves)) + f"|{_elo(white_elo)}|{_elo(black_elo)}|{fen}"


def _python_chess():
    try:
        import chess
    except ImportError:
        raise DataError("replaying chess games (FENs) needs python-chess, an optional extra: pip install chess") from None
    return chess


def _existing_file(path, what: str) -> Path:
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a directory; expected {what}")
    if not path.is_file():
        raise DataError(f"{path}: no such file; expected {what}")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty; expected {what}")
    return path


_COMMENT = re.compile(r"\{[^}]*\}|;[^\n]*")
_VARIATION = re.compile(r"\([^()]*\)")
_NOISE = re.compile(r"\$\d+|\d+\.(?:\.\.)?")  # NAGs and move numbers
_TAG = re.compile(r'\[\s*(\w+)\s+"((?:[^"\\]|\\.)*)"\s*\]\s*$')


def parse_movetext(movetext: str) -> tuple[list[str], str]:
    """The mainline SAN moves (annotations dropped) and the result of a PGN movetext; stdlib only."""
    text = _COMMENT.sub(" ", movetext)
    while (shorter := _VARIATION.sub(" ", text)) != text:  # variations nest: strip innermost first
        text = shorter
    tokens = [t.rstrip("!?") for t in _NOISE.sub(" ", text).split()]
    result = tokens.pop() if tokens and tokens[-1] in RESULTS else "*"
    return [t for t in tokens if t], result


def _replay(sans: Sequence[str], name: str, chess) -> str:
    """The FEN of the final position; every move is checked legal (the moves themselves are kept as written)."""
    board = chess.Board()
    for i, san in enumerate(sans):
        try:
            board.push_san(san)
        except ValueError:
            raise DataError(f"{name}: move {i + 1} {san!r} is not legal; expected legal SAN moves") from None
    return board.fen()


def _pgn_records(path: Path) -> Iterator[tuple[int, dict, str]]:
    """``(line number, tags, movetext)`` of each game of a PGN file; stdlib only."""
    tags, moves, start, in_comment = {}, [], 1, False
    # Tag values (player names) may be Latin-1; they are not part of the line, so replace, don't fail.
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if line.startswith("[") and not in_comment:
                if moves:
                    yield start, tags, " ".join(moves)
                    tags, moves, start = {}, [], n
                if not (tag := _TAG.match(line)):
                    raise DataError(f'{path} line {n}: malformed tag {line.strip()[:40]!r}; expected [Name "value"]')
                tags[tag[1]] = tag[2]
            elif line.strip() and not line.startswith("%"):  # "%" lines are PGN escapes
                moves.append(line)
                in_comment = line.rfind("{") > line.rfind("}") or (in_comment and "}" not in line)
    if moves or tags:
        yield start, tags, " ".join(moves)


def read_pgn(pgn: str | Path | Iterable[str | Path]) -> Iterator[tuple[str, str]]:
    """``(name, line)`` for every game of one or more PGN files; FENs by python-chess."""
    files = [_existing_file(p, "a PGN file") for p in ([pgn] if isinstance(pgn, (str, Path)) else pgn)]
    chess = _python_chess()
    for path in files:
        n = 0
        for n, (line, tags, movetext) in enumerate(_pgn_records(path), 1):
            name = f"{path} game {n} (line {line})"
            if tags.get("FEN", chess.STARTING_FEN) != chess.STARTING_FEN or tags.get("Variant", "Standard") != "Standard":
                raise DataError(f"{name}: a variant or set-up position; expected standard chess from the start")
            sans, result = parse_movetext(movetext)
            fen = _replay(sans, name, chess)
            yield name, format_game(sans, tags.get("Result", result), tags.get("WhiteElo"), tags.get("BlackElo"), fen)
        if n == 0:
            raise DataError(f'{path} holds no PGN game; expected [Name "value"] tags and movetext')


LICHESS_COLUMNS = ("movetext", "WhiteElo", "BlackElo")


def read_lichess_parquet(folder: str | Path, *, max_games: int | None = None) -> Iterator[tuple[str, str]]:
    """``(name, line)`` for the games of Lichess/standard-chess-games Parquet files under ``folder``."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError("reading Parquet needs pyarrow: pip install pyarrow") from None
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a directory; expected a folder of Lichess .parquet files")
    files = sorted(folder.rglob("*.parquet"))
    if not files:
        raise DataError(f"{folder} holds no .parquet file; expected Lichess/standard-chess-games shards")
    chess = _python_chess()
    n = 0
    for path in files:
        try:
            shard = pq.ParquetFile(path)
            missing = [c for c in LICHESS_COLUMNS if c not in shard.schema_arrow.names]
            if missing:
                raise DataError(f"{path} lacks column {missing[0]!r}; expected columns {', '.join(LICHESS_COLUMNS)}")
            row = 0
            for batch in shard.iter_batches(batch_size=4096, columns=list(LICHESS_COLUMNS)):
                for movetext, white, black in zip(*(batch.column(c).to_pylist() for c in LICHESS_COLUMNS)):
                    name, row = f"{path} row {row}", row + 1
                    sans, result = parse_movetext(movetext or "")
                    yield name, format_game(sans, result, white, black, _replay(sans, name, chess))
                    n += 1
                    if n == max_games:
                        return
        except (pa.ArrowException, OSError) as e:
            raise DataError(f"{path}: unreadable Parquet shard ({str(e).splitlines()[0]})") from None


def split_games(n: int, *, seed: int, n_test: int) -> tuple[np.ndarray, np.ndarray]:
    """Game indices (train, test): one permutation by ``seed`` (SPEC §2.2), its first ``n_test`` are the test set."""
    perm = np.random.default_rng(seed).permutation(n)
    return perm[n_test:], perm[:n_test]


def _n_test(n: int, test_fraction: float | None, n_test_games: int | None) -> int:
    n_test = n_test_games if n_test_games is not None else round(test_fraction * n)
    if not 0 < n_test < n:
        raise DataError(f"{n} games cannot be split into {n_test} test games and at least one training game")
    return n_test


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def temp_dir_for(out_dir: Path) -> Path:
    """A fresh temporary folder beside ``out_dir`` (same file system, so ``publish`` is a rename), named by its
    writer's pid (`paths.temp_prefix`) so that `dataset_problems` tells a killed write from one in progress."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f"{paths.temp_prefix()}{out_dir.name}-"))


def dataset_problems(root: Path) -> list[tuple[Path, str]]:
    """(path, why) for the prepared datasets under `root`: interrupted writes, and datasets whose metadata is
    unreadable or whose streams do not match the SHA-256 that `publish` recorded; a write in progress is neither."""
    out = []
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        if paths.is_stale_temp(d) or (d.name.startswith(".") and ".tmp-" in d.name):  # (the latter: named before
            out.append((d, "an interrupted write (safe to delete)"))                # the writer's pid was in it)
            continue
        if d.name.startswith(paths.TMP_PREFIX):
            continue
        try:
            want = json.loads((d / "meta.json").read_text())["sha256"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            out.append((d, f"its meta.json is unreadable or has no sha256 ({type(e).__name__}); delete it and it is "
                           "prepared again on first use"))
            continue
        bad = [name for name, digest in sorted(want.items())
               if not (d / name).is_file() or sha256_file(d / name) != digest]
        if bad:  # the whole folder: `runs repair` removes it, and an embedded dataset is prepared again on first use
            out.append((d, f"{', '.join(bad)} missing or damaged (SHA-256 differs from meta.json); delete the folder "
                           "and it is prepared again on first use"))
    return out


def publish(tmp: Path, out_dir: Path, meta: dict) -> Path:
    """Write ``meta.json`` (with the bins' sha256) into ``tmp``, then rename ``tmp`` to ``out_dir``."""
    meta = {**meta, "sha256": {f"{s}.bin": sha256_file(tmp / f"{s}.bin") for s in ("train", "test")}}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    if out_dir.exists():  # replace a previous dataset: move it aside first, so out_dir is never half-written
        old = temp_dir_for(out_dir)
        out_dir.rename(old / "old")
        tmp.rename(out_dir)
        shutil.rmtree(old)
    else:
        tmp.rename(out_dir)
    return out_dir


def _chess_meta(counts: dict, source: str, seed) -> dict:
    return {"task": "chess", "V": V, "BOS": BOS, "EOS": EOS, "chars": CHARS,
            "format": "moves|WhiteElo|BlackElo|FEN", "source": source, "seed": seed, "splits": counts}


def prepare_from_lines(games: Iterable[tuple[str, str]], out_dir: str | Path, *, seed: int, source: str,
                       test_fraction: float | None = None, n_test_games: int | None = None) -> Path:
    """Encode ``(name, line)`` games, shuffle and split them (``split_games``) into a dataset folder."""
    if (test_fraction is None) == (n_test_games is None):
        raise ValueError("give exactly one of test_fraction and n_test_games")
    out_dir = Path(out_dir)
    tmp = temp_dir_for(out_dir)
    try:
        lengths = []
        with open(tmp / "games.tok", "wb") as f:  # streamed: a Lichess month does not fit in memory
            for name, line in games:
                ids = encode_game(line, name=name)
                f.write(ids.tobytes())
                lengths.append(len(ids))
        if not lengths:
            raise DataError(f"{source}: no game found")
        n_test = _n_test(len(lengths), test_fraction, n_test_games)
        lengths = np.array(lengths, np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        tokens = np.memmap(tmp / "games.tok", np.uint8, mode="r")
        counts = {}
        for split, idx in zip(("train", "test"), split_games(len(lengths), seed=seed, n_test=n_test)):
            with open(tmp / f"{split}.bin", "wb") as f:
                for chunk in np.array_split(idx, max(1, len(idx) // 8192)):
                    f.write(np.concatenate([tokens[s:s + n] for s, n in zip(starts[chunk], lengths[chunk])]).tobytes())
            counts[split] = {"games": len(idx), "tokens": int(lengths[idx].sum())}
        del tokens
        (tmp / "games.tok").unlink()
        return publish(tmp, out_dir, _chess_meta(counts, source, seed))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def prepare_from_pgn(pgn: str | Path | Iterable[str | Path], out_dir: str | Path, *, seed: int = 0,
                     test_fraction: float | None = None, n_test_games: int | None = None) -> Path:
    """A dataset folder from one or more PGN files (e.g. a Lichess export); needs python-chess."""
    files = [pgn] if isinstance(pgn, (str, Path)) else list(pgn)
    return prepare_from_lines(read_pgn(files), out_dir, seed=seed, test_fraction=test_fraction,
                              n_test_games=n_test_games, source="pgn: " + ", ".join(Path(p).name for p in files))


def prepare_from_lichess_parquet(folder: str | Path, out_dir: str | Path, *, seed: int = 0,
                                 test_fraction: float | None = None, n_test_games: int | None = None,
                                 max_games: int | None = None) -> Path:
    """A dataset folder from Hugging Face ``Lichess/standard-chess-games`` shards; needs python-chess (FEN)."""
    return prepare_from_lines(read_lichess_parquet(folder, max_games=max_games), out_dir, seed=seed,
                              test_fraction=test_fraction, n_test_games=n_test_games,
                              source=f"lichess parquet: {Path(folder).name}")


def _scan(path: Path) -> dict:
    """One pass over a token file: its first and last token, largest id and number of BOS tokens."""
    tokens = np.memmap(path, np.uint8, mode="r")
    blocks = [tokens[i:i + _BLOCK] for i in range(0, len(tokens), _BLOCK)]
    return {"first": int(tokens[0]), "last": int(tokens[-1]), "max": max(int(b.max()) for b in blocks),
            "games": sum(int(np.count_nonzero(b == BOS)) for b in blocks), "tokens": len(tokens)}


# The authors' metadata names (their meta.pkl, converted to JSON) and ours.
_META_KEYS = {"vocab_size": "vocab_size", "V": "vocab_size", "bos_token_id": "BOS", "BOS": "BOS",
              "eos_token_id": "EOS", "EOS": "EOS"}


def install_pretokenized(train_bin: str | Path, test_bin: str | Path, meta_json: str | Path,
                         out_dir: str | Path) -> Path:
    """Validate pre-tokenized ``train.bin``/``test.bin`` (e.g. the authors') and install them as a dataset folder.

    ``meta_json`` needs the vocabulary size and BOS/EOS ids (``vocab_size``, ``bos_token_id``, ``eos_token_id``
    as in the authors' meta.pkl, or ``V``, ``BOS``, ``EOS``).
    """
    bins = {"train": _existing_file(train_bin, "a uint8 token file"), "test": _existing_file(test_bin, "a uint8 token file")}
    meta_json = _existing_file(meta_json, "a JSON file with vocab_size, bos_token_id, eos_token_id")
    try:
        given = json.loads(meta_json.read_text())
        given = {_META_KEYS[k]: int(v) for k, v in given.items() if k in _META_KEYS}
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError):
        raise DataError(f"{meta_json}: not a JSON object with integer vocab_size, bos_token_id, eos_token_id") from None
    if len(given) < 3:
        raise DataError(f"{meta_json}: needs vocab_size, bos_token_id and eos_token_id; found {sorted(given)}")
    if (given["BOS"], given["EOS"]) != (BOS, EOS) or not 2 < given["vocab_size"] <= 256:
        raise DataError(f"{meta_json}: BOS={given['BOS']}, EOS={given['EOS']}, vocab_size={given['vocab_size']}; "
                        f"expected BOS={BOS}, EOS={EOS} and a vocab_size in 3..256")
    counts = {}
    for split, path in bins.items():
        s = _scan(path)
        if s["max"] >= given["vocab_size"] or s["first"] != BOS or s["last"] != EOS:
            raise DataError(f"{path}: token ids up to {s['max']}, first {s['first']}, last {s['last']}; expected ids "
                            f"below vocab_size={given['vocab_size']}, starting with BOS and ending with EOS (whole games)")
        counts[split] = {"games": s["games"], "tokens": s["tokens"]}
    out_dir = Path(out_dir)
    tmp = temp_dir_for(out_dir)
    try:
        for split, path in bins.items():
            shutil.copyfile(path, tmp / f"{split}.bin")
        meta = {**_chess_meta(counts, f"pretokenized: {meta_json}", None),
                "V": 32 * math.ceil(given["vocab_size"] / 32), "vocab_size": given["vocab_size"]}
        return publish(tmp, out_dir, meta)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def encode_lines(text: bytes, *, name: str) -> tuple[np.ndarray, int]:
    """A newline-terminated block of game lines as one token stream, and its number of games (vectorized)."""
    b = np.frombuffer(text, np.uint8)
    if len(b) == 0 or b[-1] != ord("\n"):
        raise DataError(f"{name}: empty or truncated (no final newline); expected one game per line")
    newline = b == ord("\n")
    ids = _LUT[b]
    ids[newline] = EOS
    if (bad := np.flatnonzero(ids == _UNKNOWN)).size:
        line = int(np.count_nonzero(newline[: bad[0]]))
        start = text.rfind(b"\n", 0, bad[0]) + 1
        game = text[start: text.find(b"\n", bad[0])].decode("utf-8", "replace")
        raise _vocab_error(next(c for c in game if c not in CHARS), f"{name} game {line + 1}")
    starts = np.flatnonzero(np.concatenate([[True], newline[:-1]]))
    return np.insert(ids, starts, BOS), len(starts)


def _valid(out_dir: Path, expected: dict) -> bool:
    try:
        meta = json.loads((out_dir / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return meta.get("sha256") == expected and all(sha256_file(out_dir / f) == h for f, h in expected.items())


def corpus_record(corpus: str | Path = CORPUS) -> dict:
    """The shipped corpus's record (``corpus.json``): its source, seed, files, checksums and split sizes."""
    record_path = _existing_file(Path(corpus) / "corpus.json", "the shipped corpus record")
    try:
        return json.loads(record_path.read_text())
    except ValueError:
        raise DataError(f"{record_path}: not valid JSON; expected the record written by build_chess_corpus.py") from None


def materialize(out_dir: str | Path, *, corpus: str | Path = CORPUS) -> Path:
    """Write the shipped corpus's train.bin, test.bin and meta.json into ``out_dir`` (atomic; a no-op when done)."""
    out_dir, corpus = Path(out_dir), Path(corpus)
    record_path = corpus / "corpus.json"
    record = corpus_record(corpus)
    expected = {f"{s}.bin": record["bins"][s]["sha256"] for s in ("train", "test")}
    if _valid(out_dir, expected):
        return out_dir
    tmp = temp_dir_for(out_dir)
    try:
        counts = {}
        for split in ("train", "test"):
            entry = record["xz"][split]
            xz = _existing_file(corpus / entry["file"], "an xz file of game lines")
            if (h := sha256_file(xz)) != entry["sha256"]:
                raise DataError(f"{xz}: sha256 {h[:12]}… differs from {entry['sha256'][:12]}… in {record_path}")
            try:
                text = lzma.decompress(xz.read_bytes())
            except lzma.LZMAError as e:
                raise DataError(f"{xz}: corrupt xz ({e}); expected an xz file of game lines") from None
            tokens, games = encode_lines(text, name=str(xz))
            tokens.tofile(tmp / f"{split}.bin")
            counts[split] = {"games": games, "tokens": len(tokens)}
            if (h := sha256_file(tmp / f"{split}.bin")) != expected[f"{split}.bin"]:
                raise DataError(f"{xz}: materialized {split}.bin has sha256 {h[:12]}…, not {record_path}'s")
        return publish(tmp, out_dir, _chess_meta(counts, record["source"]["name"], record["seed"]))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
