"""The demo reads true: each abstract describes one invention, each demand comes from a company
of its industry. Checked on the plan (no database): the seed stores exactly these specs."""

from __future__ import annotations

import re

import pytest

from revive.demo import catalog
from revive.demo.demands import DEMANDS
from revive.demo.inventions import INVENTIONS
from revive.demo.seed import build_plan

SUBJECTS = {
    s.subject: (college, s)
    for u in catalog.UNIVERSITIES
    for college in u.colleges
    for s in college.subjects
}


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[。！？]", text) if s.strip()]


def _neighbours(subject: str) -> set[str]:
    """Key terms of the other inventions of the same college, not shared with this one."""
    college, _ = SUBJECTS[subject]
    own = set(INVENTIONS[subject].terms)
    return {
        term
        for other in college.subjects
        if other.subject != subject
        for term in INVENTIONS[other.subject].terms
        if not any(term in mine or mine in term for mine in own)
    }


def _subject_of(title: str) -> str:
    return max((s for s in SUBJECTS if s in title), key=len)


@pytest.fixture(scope="module")
def patents():
    return build_plan().patents


def test_every_invention_has_its_own_vocabulary():
    assert set(INVENTIONS) == set(SUBJECTS)
    for subject, (_, s) in SUBJECTS.items():
        invention = INVENTIONS[subject]
        assert len(invention.methods) == len(s.suffixes), subject
        assert any(t in subject for t in invention.terms), subject
        for clause in invention.effects:  # the abstract's second sentence rests on them
            assert any(t in clause for t in invention.terms), (subject, clause)


def test_every_abstract_sentence_belongs_to_its_invention(patents):
    """Each sentence names a key term of the patent's invention and none of another invention
    of the college (the old generator stitched an anaerobic-digestion patent to soybean-meal
    and PCR sentences)."""
    for spec in patents:
        f = spec.fields
        subject = _subject_of(f["title"])
        terms = INVENTIONS[subject].terms
        foreign = _neighbours(subject)
        for field in ("abstract", "problem_solved"):
            for sentence in _sentences(f[field]):
                assert any(t in sentence for t in terms), (f["title"], field, sentence)
                strays = [t for t in foreign if t in sentence]
                assert not strays, (f["title"], field, sentence, strays)
        assert not [t for t in foreign if t in (f.get("advantages") or "")], f["title"]
        assert 80 <= len(f["abstract"]) <= 200, f["title"]


def test_the_reported_incoherent_abstract_is_gone(patents):
    (spec,) = [p for p in patents if "厌氧发酵沼液" in p.fields["title"]]
    text = "".join(spec.fields[k] for k in ("abstract", "problem_solved", "advantages"))
    for stray in ("豆粕", "PCR", "等温扩增", "乳房炎", "肉鸡"):
        assert stray not in text
    assert "沼液" in spec.fields["abstract"]


@pytest.mark.parametrize(
    ("title_part", "claim"),
    [("发情行为", "乳房炎"), ("精准饲喂", "乳房炎"), ("湿法脱硫", "脱硝"), ("硬碳负极", "正极")],
)
def test_a_variant_does_not_claim_its_siblings_advantages(patents, title_part, claim):
    """A tester read 「隐性乳房炎检出准确率超过90%」 as the 技术优势 of the 奶牛发情识别 patent
    (and 「脱硝效率超过90%」 on the 脱硫废水 one), which earned it a 强 for a mastitis demand:
    the figures of one variant of an invention are not claimed by its siblings."""
    (spec,) = [p for p in patents if title_part in p.fields["title"]]
    assert claim not in (spec.fields.get("advantages") or ""), spec.fields["title"]
    (owner,) = [
        p
        for p in patents
        if _subject_of(p.fields["title"]) == _subject_of(spec.fields["title"])
        and claim in (p.fields.get("advantages") or "")
    ]
    assert claim in owner.fields["title"] + owner.fields["abstract"]


def test_each_variant_describes_its_own_method(patents):
    by_subject: dict[str, set[str]] = {}
    for spec in patents:
        by_subject.setdefault(_subject_of(spec.fields["title"]), set()).add(
            _sentences(spec.fields["abstract"])[0]
        )
    for subject, (_, s) in SUBJECTS.items():
        assert len(by_subject[subject]) == len(s.suffixes), subject


def test_each_demand_comes_from_a_company_of_its_industry():
    for spec in DEMANDS:
        enterprise = catalog.BY_KEY[spec["enterprise"]]
        assert catalog.fits(enterprise, spec["industry"]), (spec["title"], enterprise.name)
    dairy = next(d for d in DEMANDS if "奶牛" in d["title"])
    assert "乳业" in catalog.BY_KEY[dairy["enterprise"]].name
    posters = {d["enterprise"] for d in DEMANDS}
    assert {"zhinong", "hengxin", "hairun"} <= posters  # the demo logins post demands


def test_co_owners_are_companies_of_the_inventions_industry(patents):
    names = {e.name: e for e in catalog.ENTERPRISES}
    co_owned = [p for p in patents if "；" in p.fields["patentees"]]
    assert co_owned
    for spec in co_owned:
        company = names[spec.fields["patentees"].split("；")[1]]
        assert company.co_owns and catalog.fits(company, spec.fields["industry_code"])
