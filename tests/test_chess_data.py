"""The chess task's data (SPEC §2.2): vocabulary, line format, preparation, the shipped corpus, errors."""
import json
import re
import shutil
import time

import numpy as np
import pytest

from supercollapse.engine.tasks import chess as C

LINE = re.compile(r"^([^,;|]+[,;])+\|(\d+|\?)\|(\d+|\?)\|[1-8pnbrqkPNBRQK/]+ [wb] (-|[KQkq]+) (-|[a-h][36]) \d+ \d+$")

# Ten short games: mates, castling, promotion, en passant, comments, NAGs, variations, Elos, an unknown result.
PGN = """[Event "t"]
[White "A"]
[Black "B"]
[Result "0-1"]
[WhiteElo "2100"]

1. f3 e5 2. g4 Qh4# 0-1

[Event "t"]
[Result "1-0"]

1. e4 e5 2. Bc4 Nc6 3. Qh5 Nf6?? 4. Qxf7# 1-0

[Event "t"]
[Result "1/2-1/2"]
[BlackElo "1850"]

1. e4 {best by test} e5 2. Nf3 (2. f4 exf4 (2... d5)) 2... Nc6 $1 3. Bb5 a6 4. O-O 1/2-1/2

[Event "t"]
[Result "*"]

1. d4 d5 2. c4 e6 *

[Event "t"]
[Result "1-0"]

1. e4 d5 2. e5 f5 3. exf6 Nxf6 1-0

[Event "t"]
[Result "0-1"]

1. a4 b5 2. axb5 a6 3. bxa6 Bb7 4. axb7 Nc6 5. bxa8=Q Qxa8 0-1

[Event "t"]
[Result "1-0"]

1. Nf3 Nf6 2. g3 g6 3. Bg2 Bg7 4. O-O O-O 5. d3 d6 1-0

[Event "t"]
[Result "0-1"]

1. e4 e5 2. Nf3 Nc6 3. d4 exd4 4. Nxd4 Nxd4 5. Qxd4 Qf6 6. Qxf6 Nxf6 7. Nc3 Bb4 8. Bd2 O-O
9. O-O-O Re8 0-1

[Event "t"]
[Result "1/2-1/2"]

1. c4 c5 1/2-1/2

[Event "t"]
[Result "1-0"]

1. e3 1-0
"""
FOOLS_MATE = "f3,e5;g4,Qh4#;0-1,|2100|?|rnb1kbnr/pppp1ppp/8/4p3/6Pq/5P2/PPPPP2P/RNBQKBNR w KQkq - 1 3"


def one_line_error(excinfo, *words):
    message = str(excinfo.value)
    assert "\n" not in message and all(w in message for w in words), message


def nothing_left(folder, name):
    assert not (folder / name).exists() and not list(folder.glob(f".{name}.tmp-*"))


def test_vocabulary_follows_the_spec():
    assert (C.BOS, C.EOS, C.V) == (0, 1, 64)
    assert C.CHARS.startswith(",;+#=?!\n /0123456789-xabcdefghKQRBNOP()lkv:*|") and C.CHARS.endswith("|rnqpwm")
    assert len(set(C.CHARS)) == len(C.CHARS) == 51
    ids = C.encode_game(FOOLS_MATE)
    assert ids.dtype == np.uint8 and ids[0] == C.BOS and ids[-1] == C.EOS and ids[1:-1].min() >= 2
    assert C.decode_games(np.concatenate([ids, C.encode_game("e4,*;|?|?|8/8/8/8/8/8/8/8 w - - 0 1")])) == [
        FOOLS_MATE, "e4,*;|?|?|8/8/8/8/8/8/8/8 w - - 0 1"]


def test_format_and_movetext():
    assert C.format_game(["f3", "e5", "g4", "Qh4#"], "0-1", 2100, None, "FEN") == "f3,e5;g4,Qh4#;0-1,|2100|?|FEN"
    assert C.format_game(["e4"], "bogus", "", "?", "F") == "e4,*;|?|?|F"
    sans, result = C.parse_movetext("1. e4 { [%clk 0:03:00] } 1... e5?! 2. Nf3 (2. f4 (2. Nc3)) $2 Nc6 1/2-1/2")
    assert (sans, result) == (["e4", "e5", "Nf3", "Nc6"], "1/2-1/2")


def test_unknown_character_names_it_and_the_game():
    with pytest.raises(C.DataError) as e:
        C.encode_game("e4,é5;", name="my game 7")
    one_line_error(e, "'é'", "my game 7", "valid")
    with pytest.raises(C.DataError) as e:
        C.encode_lines(b"e4,e5;\ne4,E5;\n", name="f.txt")
    one_line_error(e, "'E'", "f.txt game 2")
    with pytest.raises(C.DataError) as e:
        C.encode_lines(b"e4,e5;", name="f.txt")
    one_line_error(e, "f.txt", "truncated")


def test_bad_pgn_paths_fail_cleanly(tmp_path):
    (tmp_path / "empty.pgn").write_text("")
    for path, words in ((tmp_path / "empty.pgn", ["empty.pgn", "empty", "PGN"]),
                        (tmp_path / "missing.pgn", ["missing.pgn", "no such file"]),
                        (tmp_path, ["is a directory", "PGN file"])):
        with pytest.raises(C.DataError) as e:
            C.prepare_from_pgn(path, tmp_path / "out", seed=0, n_test_games=1)
        one_line_error(e, *words)
        nothing_left(tmp_path, "out")


def test_pgn_prepares_and_round_trips(tmp_path):
    (tmp_path / "ten.pgn").write_text(PGN)
    t0 = time.perf_counter()
    out = C.prepare_from_pgn(tmp_path / "ten.pgn", tmp_path / "ds", seed=3, n_test_games=2)
    seconds = time.perf_counter() - t0
    meta = json.loads((out / "meta.json").read_text())
    lines = [line for _, line in C.read_pgn(tmp_path / "ten.pgn")]
    assert lines[0] == FOOLS_MATE and len(lines) == 10 and all(LINE.match(g) for g in lines), lines
    assert lines[2].startswith("e4,e5;Nf3,Nc6;Bb5,a6;O-O,1/2-1/2;|?|1850|")
    assert lines[5].split("|")[0] == "a4,b5;axb5,a6;bxa6,Bb7;axb7,Nc6;bxa8=Q,Qxa8;0-1,"
    train, test = (np.fromfile(out / f"{s}.bin", np.uint8) for s in ("train", "test"))
    train_idx, test_idx = C.split_games(10, seed=3, n_test=2)
    assert C.decode_games(test) == [lines[i] for i in test_idx]
    assert C.decode_games(train) == [lines[i] for i in train_idx]
    assert meta["splits"] == {"train": {"games": 8, "tokens": len(train)}, "test": {"games": 2, "tokens": len(test)}}
    assert meta["V"] == 64 and meta["sha256"]["train.bin"] == C.sha256_file(out / "train.bin")
    assert seconds < 10, seconds


def test_illegal_move_and_bad_tag_name_the_game(tmp_path):
    (tmp_path / "bad.pgn").write_text(PGN + '\n[Event "x"]\n\n1. e4 e5 2. Ke3 1-0\n')
    with pytest.raises(C.DataError) as e:
        C.prepare_from_pgn(tmp_path / "bad.pgn", tmp_path / "out", n_test_games=1)
    one_line_error(e, "bad.pgn game 11", "'Ke3'", "not legal")
    nothing_left(tmp_path, "out")
    (tmp_path / "tag.pgn").write_text('[Event "x]\n\n1. e4 1-0\n')
    with pytest.raises(C.DataError) as e:
        list(C.read_pgn(tmp_path / "tag.pgn"))
    one_line_error(e, "tag.pgn line 1", "malformed tag")


def test_lichess_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    games = ["1. e4 { [%clk 0:03:00] } 1... e5 { [%clk 0:03:00] } 2. Qh5 Nc6 3. Bc4 Nf6?? 4. Qxf7# 1-0",
             "1. d4 d5 0-1", "1. c4 1/2-1/2"]
    (tmp_path / "data").mkdir()
    pq.write_table(pa.table({"movetext": games, "WhiteElo": [1500, 1600, None], "BlackElo": [1400, None, 2000],
                             "Event": ["x"] * 3}), tmp_path / "data" / "train-00000.parquet")
    out = C.prepare_from_lichess_parquet(tmp_path / "data", tmp_path / "ds", seed=0, n_test_games=1)
    got = sorted(C.decode_games(np.fromfile(out / "train.bin", np.uint8)) +
                 C.decode_games(np.fromfile(out / "test.bin", np.uint8)))
    assert got[0] == "c4,1/2-1/2;|?|2000|rnbqkbnr/pppppppp/8/8/2P5/8/PP1PPPPP/RNBQKBNR b KQkq - 0 1"
    assert got[2].startswith("e4,e5;Qh5,Nc6;Bc4,Nf6;Qxf7#,1-0;|1500|1400|")
    pq.write_table(pa.table({"moves": games}), tmp_path / "data" / "train-00001.parquet")
    with pytest.raises(C.DataError) as e:
        C.prepare_from_lichess_parquet(tmp_path / "data", tmp_path / "ds2", n_test_games=1)
    one_line_error(e, "train-00001.parquet", "'movetext'")
    (tmp_path / "data" / "train-00001.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(C.DataError) as e:
        C.prepare_from_lichess_parquet(tmp_path / "data", tmp_path / "ds2", n_test_games=1)
    one_line_error(e, "train-00001.parquet", "unreadable Parquet")
    nothing_left(tmp_path, "ds2")


def test_install_pretokenized(tmp_path):
    games = [C.encode_game(g) for g in (FOOLS_MATE, "e4,1-0;|?|?|x", "d4,*;|?|?|w")]
    np.concatenate(games[:2]).tofile(tmp_path / "train.bin")
    games[2].tofile(tmp_path / "test.bin")
    (tmp_path / "meta.json").write_text(json.dumps({"vocab_size": 54, "bos_token_id": 0, "eos_token_id": 1, "seed": 42}))
    out = C.install_pretokenized(tmp_path / "train.bin", tmp_path / "test.bin", tmp_path / "meta.json", tmp_path / "ds")
    meta = json.loads((out / "meta.json").read_text())
    assert meta["splits"]["train"]["games"] == 2 and meta["splits"]["test"]["tokens"] == len(games[2])
    assert meta["V"] == 64 and meta["sha256"]["test.bin"] == C.sha256_file(tmp_path / "test.bin")
    games[2][:-1].tofile(tmp_path / "test.bin")  # a truncated file no longer ends with EOS
    with pytest.raises(C.DataError) as e:
        C.install_pretokenized(tmp_path / "train.bin", tmp_path / "test.bin", tmp_path / "meta.json", tmp_path / "ds2")
    one_line_error(e, "test.bin", "ending with EOS")
    (tmp_path / "meta.json").write_text("{not json")
    with pytest.raises(C.DataError) as e:
        C.install_pretokenized(tmp_path / "train.bin", tmp_path / "test.bin", tmp_path / "meta.json", tmp_path / "ds2")
    one_line_error(e, "meta.json", "vocab_size")
    nothing_left(tmp_path, "ds2")


def test_shipped_corpus_materializes_to_the_recorded_checksums(tmp_path):
    record = json.loads((C.CORPUS / "corpus.json").read_text())
    out = C.materialize(tmp_path / "chess")
    meta = json.loads((out / "meta.json").read_text())
    for split in ("train", "test"):
        assert C.sha256_file(out / f"{split}.bin") == record["bins"][split]["sha256"] == meta["sha256"][f"{split}.bin"]
        assert meta["splits"][split] == {k: record["bins"][split][k] for k in ("games", "tokens")}
    assert meta["V"] == C.V and meta["splits"]["train"]["games"] + meta["splits"]["test"]["games"] == 145_716
    head = np.fromfile(out / "test.bin", np.uint8, count=4096)
    first = C.decode_games(head[: np.flatnonzero(head == C.EOS)[0] + 1])[0]
    assert LINE.match(first), first
    stamp = (out / "train.bin").stat().st_mtime_ns
    assert C.materialize(tmp_path / "chess") == out and (out / "train.bin").stat().st_mtime_ns == stamp  # idempotent


def test_materialize_rejects_a_damaged_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(C.CORPUS, corpus)
    xz = corpus / "train.txt.xz"  # the first file read
    xz.write_bytes(xz.read_bytes()[:1000])  # truncated
    with pytest.raises(C.DataError) as e:
        C.materialize(tmp_path / "out", corpus=corpus)
    one_line_error(e, "train.txt.xz", "sha256")
    record = json.loads((corpus / "corpus.json").read_text())
    record["xz"]["train"]["sha256"] = C.sha256_file(xz)  # the record agrees, the stream is still cut short
    (corpus / "corpus.json").write_text(json.dumps(record))
    with pytest.raises(C.DataError) as e:
        C.materialize(tmp_path / "out", corpus=corpus)
    one_line_error(e, "train.txt.xz", "corrupt xz")
    nothing_left(tmp_path, "out")


def test_the_registry_vocabulary_is_the_corpus_vocabulary(tmp_path):
    import subprocess
    import sys

    from supercollapse.engine import tasks

    assert tasks.get("chess").valid_V(C.V) and not tasks.get("chess").valid_V(C.V + 32)
    env = {**__import__("os").environ, "SUPERCOLLAPSE_CACHE": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "supercollapse", "data", "prepare", "chess", "--pgn",
                        str(tmp_path / "missing.pgn")], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "missing.pgn" in r.stderr and len(r.stderr.strip().splitlines()) == 1
