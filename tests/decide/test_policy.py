"""policy.level_from_truth against TRIAGE_POLICY.md's table, row by row."""

from __future__ import annotations

import pytest

from triage.decide.policy import Findings, expected_max_grade, level_from_truth

N, M, S = "normal", "monitor", "seek-care"

# (findings, expected level, the policy text it encodes)
TABLE = [
    # normal: erythema grade <= 2 on days 0-3, <= 1 on days 4-7, 0 after day 7
    (Findings(erythema_grade=2, days_since_treatment=0), N, "grade 2 on day 0"),
    (Findings(erythema_grade=2, days_since_treatment=3), N, "grade 2 on day 3"),
    (Findings(erythema_grade=1, days_since_treatment=7), N, "grade 1 on day 7"),
    (Findings(erythema_grade=0, days_since_treatment=12), N, "grade 0 after day 7"),
    (Findings(bleeding_spots=20, erythema_grade=2, days_since_treatment=0), N, "pinpoint bleeding on day 0"),
    # monitor
    (Findings(erythema_grade=2, days_since_treatment=4), M, "grade 2 on days 4-7"),
    (Findings(erythema_grade=2, days_since_treatment=7), M, "grade 2 on days 4-7"),
    (Findings(erythema_grade=1, days_since_treatment=8), M, ">= 1 after day 7"),
    (Findings(erythema_grade=3, days_since_treatment=0), M, "grade 3 on days 0-1"),
    (Findings(erythema_grade=3, days_since_treatment=1), M, "grade 3 on days 0-1"),
    (Findings(papules=1, days_since_treatment=3), M, "a few papules"),
    (Findings(papules=4, days_since_treatment=3), M, "a few papules"),
    (Findings(track_marks=2, days_since_treatment=5), M, "track marks"),
    (Findings(pigment_area=0.05, days_since_treatment=9), M, "small new hyperpigmented patches"),
    (Findings(bruise_area=0.03, days_since_treatment=2), M, "mild bruising"),
    (Findings(quality_issue="blurry", days_since_treatment=2), M, "photo not assessable"),
    (Findings(pustules=2, days_since_treatment=5), M, "1-2 pustules: below the infection count"),
    # seek-care
    (Findings(erythema_grade=4, days_since_treatment=0), S, "grade 4 at any time"),
    (Findings(erythema_grade=3, days_since_treatment=2), S, ">= 3 after day 1"),
    (Findings(pustules=3, days_since_treatment=4), S, "pustules >= 3"),
    (Findings(crusts=1, days_since_treatment=4), S, "yellow crusts"),
    (Findings(vesicles=4, days_since_treatment=4), S, "grouped vesicles"),
    (Findings(bleeding_spots=5, days_since_treatment=1), S, "bleeding after day 0"),
    (Findings(bruise_area=0.2, days_since_treatment=3), S, "extensive bruising"),
    (Findings(pigment_area=0.25, days_since_treatment=10), S, "marked hyperpigmentation > ~10%"),
    # most urgent wins; quality failure never normal
    (Findings(papules=2, pustules=5, days_since_treatment=4), S, "most urgent row wins"),
    (Findings(quality_issue="too_dark", pustules=4, days_since_treatment=4), S, "findings still count"),
    # unknown day: judged as days 2-3
    (Findings(erythema_grade=2, days_since_treatment=None), N, "unknown day judged as days 2-3"),
    (Findings(erythema_grade=3, days_since_treatment=None), S, "unknown day: grade 3 is after day 1"),
    (Findings(bleeding_spots=3, days_since_treatment=None), S, "unknown day: bleeding is after day 0"),
]


@pytest.mark.parametrize("findings,level,why", TABLE, ids=[t[2] for t in TABLE])
def test_policy_table(findings, level, why):
    assert level_from_truth(findings) == level, why


def test_expected_grade_by_day():
    assert [expected_max_grade(d) for d in (0, 1, 2, 3, 4, 7, 8, 14)] == [2, 2, 2, 2, 1, 1, 0, 0]
    assert expected_max_grade(None) == 2


def test_quality_failure_is_never_normal():
    for issue in ("no_skin", "too_dark", "overexposed", "blurry", "low_resolution", "color_cast"):
        assert level_from_truth(Findings(quality_issue=issue, days_since_treatment=1)) != "normal"
