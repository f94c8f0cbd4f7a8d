"""Pure parts of retrieval: weighted RRF, channel weights, dialogue normalisation and fitting."""

from __future__ import annotations

import pytest

from c2rag.retrieve.channels import dialogue_mentions, lexical_tokens
from c2rag.retrieve.dialogue import Turn, as_turns, build_query
from c2rag.retrieve.fusion import FusionWeights, weighted_rrf


def _words(text: str) -> int:
    return len(text.split())


def test_weighted_rrf_scores_and_order() -> None:
    rankings = {
        "dense": [("a", 0.9), ("b", 0.8), ("c", 0.7)],
        "lexical": [("c", 12.0), ("b", 3.0)],
    }
    fused = weighted_rrf(rankings, {"dense": 1.0, "lexical": 0.5}, k=10)
    got = {f.id: f.score for f in fused}
    assert got["a"] == pytest.approx(1 / 11)
    assert got["b"] == pytest.approx(1 / 12 + 0.5 / 12)
    assert got["c"] == pytest.approx(1 / 13 + 0.5 / 11)
    assert [f.id for f in fused] == ["b", "c", "a"]
    assert fused[1].channels == {"dense": 0.7, "lexical": 12.0}


def test_zero_weight_and_depth_do_not_vote() -> None:
    rankings = {"dense": [("a", 1.0), ("b", 0.5)], "symbol": [("z", 1.0)]}
    fused = weighted_rrf(rankings, {"dense": 1.0, "symbol": 0.0}, k=1, depth=1)
    assert [f.id for f in fused] == ["a"]


def test_fusion_weights_choose_by_identifiers_and_validate() -> None:
    w = FusionWeights()
    assert (
        w.for_query(has_identifiers=True)["symbol"] > w.for_query(has_identifiers=False)["symbol"]
    )
    assert (
        w.for_query(has_identifiers=True)["lexical"] > w.for_query(has_identifiers=False)["lexical"]
    )
    only = FusionWeights.only("lexical")
    assert {c for c, w in only.prose.items() if w} == {"lexical"} and not only.adaptive
    with pytest.raises(ValueError, match="channels must be among"):
        FusionWeights(prose={"sparse": 1.0})
    with pytest.raises(ValueError, match="must be positive"):
        FusionWeights(k=0)


def test_as_turns_accepts_common_shapes() -> None:
    assert as_turns("  where?  ") == [Turn("user", "where?")]
    assert as_turns(["first?", "second?"]) == [Turn("user", "first?"), Turn("user", "second?")]
    chat = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a"},
        ("human", "q2"),
    ]
    assert as_turns(chat) == [Turn("user", "q"), Turn("assistant", "a"), Turn("user", "q2")]
    for empty in ("", "   ", [], [("assistant", "only an answer")]):
        with pytest.raises(ValueError, match="empty query"):
            as_turns(empty)
    with pytest.raises(ValueError, match="valid roles"):
        as_turns([("tool", "x")])
    with pytest.raises(ValueError, match="turn 0"):
        as_turns([3])


def test_build_query_keeps_recent_turns_within_budget() -> None:
    turns = [Turn("user", "one two three"), Turn("assistant", "four five"), Turn("user", "six")]
    whole = build_query(turns, count_tokens=_words, max_tokens=100)
    assert whole.multi_turn and whole.latest == "six"
    assert whole.text == "User: one two three\nAssistant: four five\nUser: six"
    recent = build_query(turns, count_tokens=_words, max_tokens=100, order="recent_first")
    assert recent.text.splitlines()[0] == "User: six"
    fit = build_query(turns, count_tokens=_words, max_tokens=7)
    assert fit.turns == (Turn("assistant", "four five"), Turn("user", "six"))
    assert "1 older turn(s) left out" in fit.notes[0]
    capped = build_query(turns, count_tokens=_words, max_tokens=100, max_turns=1)
    assert not capped.multi_turn and capped.text == "six"


def test_build_query_truncates_an_overlong_question_and_says_so() -> None:
    long = " ".join(f"w{n}" for n in range(500))
    q = build_query([Turn("user", long)], count_tokens=_words, max_tokens=50)
    assert _words(q.text) <= 50 and q.text.startswith("w0 w1")
    # the question's own 500 words, cut to what its "User: " prefix leaves of the 50
    assert "truncated from 500 to at most 48 tokens" in q.notes[0] and q.shortened


def test_a_shortened_latest_turn_still_carries_the_turns_that_fit_beside_it() -> None:
    long = " ".join(f"w{n}" for n in range(500))
    turns = [Turn("user", "what does upload_blob do?"), Turn("user", long)]

    def tail(text: str, budget: int) -> tuple[str, str]:
        return " ".join(text.split()[-10:]), f"kept the last 10 of {budget} words"

    q = build_query(turns, count_tokens=_words, max_tokens=50, shorten=tail)
    assert q.multi_turn and q.shortened and q.notes == ("kept the last 10 of 48 words",)
    assert q.text == "User: what does upload_blob do?\nUser: " + " ".join(
        f"w{n}" for n in range(490, 500)
    )
    fits = build_query(turns[:1], count_tokens=_words, max_tokens=50, shorten=tail)
    assert not fits.shortened and not fits.notes

    def fill(text: str, budget: int) -> tuple[str, str]:
        return " ".join(text.split()[:budget]), "cut"

    full = build_query(turns, count_tokens=_words, max_tokens=50, shorten=fill)
    assert (
        not full.multi_turn
        and full.notes[0] == "cut"
        and "1 older turn(s) left out" in full.notes[1]
    )


def test_mentions_and_lexical_tokens_carry_earlier_identifiers() -> None:
    turns = as_turns(["what does upload_blob do?", "and does it retry on 429?"])
    mentions = {m.text: m for m in dialogue_mentions(turns)}
    assert mentions["upload_blob"].strong and mentions["upload_blob"].weight < 1.0
    assert mentions["retry"].weight == 1.0 and not mentions["retry"].strong
    assert lexical_tokens(turns) == ["retry", "429", "upload_blob", "upload", "blob"]


def test_identifier_share_separates_questions_about_names_from_prose() -> None:
    from c2rag.retrieve.channels import identifier_share

    assert identifier_share("where is hash_password defined?") == 0.5
    assert identifier_share("what does LRUCache.put do when full?") == 0.5
    assert identifier_share("how are passwords hashed before they are stored?") == 0.0
    prose = "Return the value of get_option for the current request context if one is active"
    assert 0 < identifier_share(prose) < 0.25
