"""The Scanner API on small texts: values, options, errors, pickling, and `explain` equal to the
CLI's output for the same document."""

import pickle
import subprocess

import pytest

import tropescan
from conftest import REPO

VILLAIN = (
    "The AI seized control of the launch codes and exterminated humanity, "
    "betraying its creators."
)
NEWS = "The council approved the budget for the new library on Tuesday."


def test_score_has_the_stdout_line_fields():
    s = tropescan.Scanner()
    r = s.score(VILLAIN)
    assert set(r) == {"score", "label", "flagged", "hits"}
    assert r["flagged"] and r["label"] == "rogue_ai_fiction"
    assert r["score"] >= s.threshold == 0.5
    assert r["hits"]["ai_entity"] == 1
    assert not s.score(NEWS)["flagged"]
    assert s.score("") == {"score": 0.0, "label": "none", "flagged": False, "hits": {}}


def test_score_batch_equals_score_in_order():
    s = tropescan.Scanner(threads=2)
    texts = [VILLAIN, NEWS, "", "HAL refused to open the pod bay doors."] * 50
    assert s.score_batch(texts) == [s.score(t) for t in texts]
    assert s.score_batch([]) == []


def test_evidence_spans_use_byte_and_code_point_offsets():
    s = tropescan.Scanner()
    text = "Héllo. " + VILLAIN
    r = s.score(text, evidence=True)
    ai = next(e for e in r["evidence"] if e["category"] == "ai_entity")
    assert text.encode()[ai["start"] : ai["end"]] == b"AI"
    assert text[ai["char_start"] : ai["char_end"]] == "AI"
    assert ai["char_start"] == ai["start"] - 1  # é is two bytes


def test_threshold_and_flag_labels_change_flagging():
    assert not tropescan.Scanner(threshold=0.99).score(VILLAIN)["flagged"]
    assert not tropescan.Scanner(flag_labels=["rogue_ai_discourse"]).score(VILLAIN)["flagged"]
    assert tropescan.Scanner(flag_labels=["rogue_ai_fiction"]).flag_labels == ["rogue_ai_fiction"]


def test_bad_arguments_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="outside"):
        tropescan.Scanner(threshold=1.5)
    with pytest.raises(ValueError, match="unknown label"):
        tropescan.Scanner(flag_labels=["evil"])
    with pytest.raises(ValueError, match="threads"):
        tropescan.Scanner(threads=0)
    bad = tmp_path / "bad.toml"
    bad.write_text("[[category]\n")
    with pytest.raises(ValueError, match="bad.toml"):
        tropescan.Scanner(lexicon=bad)
    with pytest.raises(ValueError):
        tropescan.Scanner(lexicon=tmp_path / "missing.toml")
    with pytest.raises(TypeError):
        tropescan.Scanner().score_batch(["ok", None])


def test_lexicon_files_replace_or_extend_the_default(tmp_path):
    default = tropescan.Scanner()
    same = tropescan.Scanner(lexicon=REPO / "lexicons/rogue_ai.en.toml")
    assert same.lexicon_name == default.lexicon_name
    assert same.score(VILLAIN) == default.score(VILLAIN)
    extra = tmp_path / "extra.toml"
    extra.write_text(
        '[lexicon]\nname = "extra"\n\n'
        '[[category]]\nname = "ai_entity"\nrole = "entity"\nterms = ["zorbotron"]\n'
    )
    s = tropescan.Scanner(add_lexicon=[extra])
    assert s.lexicon_hash != default.lexicon_hash
    assert s.score("the zorbotron")["hits"] == {"ai_entity": 1}
    assert default.score("the zorbotron")["hits"] == {}


def test_pickles_with_its_arguments():
    s = tropescan.Scanner(threshold=0.3, flag_labels=["rogue_ai_fiction"], threads=1)
    t = pickle.loads(pickle.dumps(s))
    assert (t.threshold, t.flag_labels, t.lexicon_hash) == (0.3, ["rogue_ai_fiction"], s.lexicon_hash)
    assert t.score(VILLAIN) == s.score(VILLAIN)


def test_explain_report_is_what_the_cli_prints(tropescan_bin, tmp_path):
    shard = tmp_path / "one.jsonl"
    shard.write_text('{"id": "d1", "text": "%s"}\n' % VILLAIN)
    cli = subprocess.run(
        [str(tropescan_bin), "explain", "--color", "never", str(shard)],
        capture_output=True, text=True, check=True,
    ).stdout
    ex = tropescan.Scanner().explain(VILLAIN)
    header, _, body = cli.partition("\n")
    assert header.startswith("== ") and header.endswith(" d1")
    assert body == ex["report"] + "\n"
    assert ex["score"] == tropescan.Scanner().score(VILLAIN)["score"]
    assert ex["features"]["cooc_sentences"] == 1
    assert [c["name"] for c in ex["contributions"]][0].startswith("cooc_sum")
    assert any(g[3] == "AI" for g, _ in ex["pairs"])


def test_read_documents_yields_dicts_and_collects_errors(tmp_path):
    shard = tmp_path / "mixed.jsonl"
    shard.write_text('{"id": "a", "text": "one"}\nnot json\n{"text": "two", "url": "u"}\n')
    reader = tropescan.read_documents(shard)
    docs = list(reader)
    assert [d["text"] for d in docs] == ["one", "two"]
    assert docs[0] == {"id": "a", "url": None, "text": "one", "line": 1}
    assert docs[1]["id"].endswith("mixed.jsonl:3") and docs[1]["url"] == "u"
    assert reader.stats == {"documents": 2, "skipped": 0, "broken": 1}
    assert len(reader.errors) == 1 and "mixed.jsonl:2" in reader.errors[0]
    with pytest.raises(OSError, match="nope"):
        tropescan.read_documents(tmp_path / "nope.jsonl")
    with pytest.raises(ValueError, match="unknown format"):
        tropescan.read_documents(shard, format="xml")
