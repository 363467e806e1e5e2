"""End to end with the real packaged model, real FAISS and the real seed documents."""

from __future__ import annotations

import pytest

from conftest import SEEDS

pytestmark = pytest.mark.e2e

LONG = "000_39ae44cc0e79be58.txt"
SHORT = "004_1d47129261bda866.txt"

# Paraphrased questions (not copied from the text) and a quote of the answering passage.
CASES = [
    (
        "What was the American military death toll for the month of May?",
        SHORT,
        "US forces in Iraq suffered 24 deaths in Iraq in May",
    ),
    (
        "Which former cabinet member was detained at the airport while trying to flee?",
        SHORT,
        "Iraq’s former trade minister has been arrested at Baghdad airport on corruption charges",
    ),
    (
        "How much crude does the Kurdish region plan to send abroad each day?",
        SHORT,
        "will pump up to 90,000-100,000 barrels per day",
    ),
    (
        "Where does Iraq rank worldwide in terms of petroleum reserves?",
        SHORT,
        "Iraq has the world’s third-largest oil reserves",
    ),
    ("How many seats did the Shia alliance win in the vote?", LONG, "which secured 180 seats"),
    (
        "Why did Washington object to the choice of al-Jaafari?",
        LONG,
        "al-Jaafari’s Da’awa party is considered by the US to be too close to Iran",
    ),
    (
        "Which British aircraft was brought down by a missile fired from the shoulder?",
        LONG,
        "shot down a British army Lynx helicopter",
    ),
    (
        "What share of Iraqis wanted a timetable for foreign troops to leave, according to the survey?",
        LONG,
        "87 percent of Iraqis",
    ),
    (
        "Which Conservative politician demanded that British soldiers come home?",
        LONG,
        "Michael Ancram, former Conservative Shadow Foreign Secretary and Shadow Defence Secretary, has called for British troops to be pulled out of Iraq",
    ),
    (
        "What did the army offer recruits as signing incentives, and did it meet its goals?",
        LONG,
        "Despite raising cash bonuses to $10,000 and College scholarships to $70,000",
    ),
    (
        "What did the Shia cleric tell worshippers about attacks on Sunnis?",
        LONG,
        "Muqtada al Sadr demanded an end to attacks on sunni muslims",
    ),
    (
        "How large is the Iraqi army on paper?",
        LONG,
        "the nominal strength of the puppet Iraqi army stands at an impressive 113,000 troops",
    ),
]


def _covers(hit, doc: str, quote: str, text: str) -> bool:
    start = text.index(quote)
    end = start + len(quote)
    overlap = min(end, hit.passage.end) - max(start, hit.passage.start)
    return hit.passage.doc_id == doc and overlap >= len(quote) / 2


@pytest.mark.parametrize(("question", "doc", "quote"), CASES, ids=[c[0][:40] for c in CASES])
def test_answering_passage_is_in_top_3(seed_retriever, question: str, doc: str, quote: str) -> None:
    text = (SEEDS / doc).read_text(encoding="utf-8")
    assert quote in text  # the case itself is valid
    hits = seed_retriever.search(question, k=3)
    assert any(_covers(h, doc, quote, text) for h in hits), [h.label() for h in hits]


def test_every_returned_passage_is_its_source_slice(seed_retriever) -> None:
    files = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.iterdir()}
    answers = seed_retriever.ask_many([c[0] for c in CASES], k=10)
    n = 0
    for answer in answers:
        for hit in answer.hits:
            assert files[hit.passage.doc_id][hit.passage.start : hit.passage.end] == hit.text
            for mark in hit.highlights:
                assert hit.passage.start <= mark.start < mark.end <= hit.passage.end
            n += 1
    assert n == 10 * len(CASES)


def test_seed_documents_are_byte_identical_to_shared_copy() -> None:
    shared = SEEDS.parents[1] / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("../shared/seeds is not beside the repository")
    names = sorted(p.name for p in shared.iterdir())
    assert names == sorted(p.name for p in SEEDS.iterdir())
    for name in names:
        assert (SEEDS / name).read_bytes() == (shared / name).read_bytes()


def test_index_manifest_of_real_build(seed_index_dir) -> None:
    from qa.index import Index

    m = Index.load(seed_index_dir).manifest
    assert m.model.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert m.model.dimension == 384 and len(m.model.fingerprint) == 64
    assert m.model.backend == "onnx-int8" and m.store.name == "faiss"
    assert set(m.documents) == {LONG, SHORT}
