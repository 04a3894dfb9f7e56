"""Goals pre-fill a program: format, questions, policy, metrics and training, all valid."""

import pytest

from peermentor.core.errors import ApplicationError
from peermentor.programs.defaults import (
    METRICS,
    default_format,
    default_training,
    program_defaults,
)
from peermentor.programs.models import Format, Goal, QuestionKind, TrainingKind
from peermentor.programs.policy import (
    DIRECTORY_ATTRIBUTES,
    describe_rule,
    policy_fields,
    policy_rename_field,
    policy_without_field,
    validate_policy,
)


def question_kinds(defaults):
    return {question.key: question.kind for question in defaults.questions}


def rules(policy, section, kind):
    return [rule for rule in policy[section] if rule["kind"] == kind]


@pytest.mark.parametrize(
    ("goal", "expected_format"),
    [
        (Goal.CROSS_FUNCTIONAL, Format.SHADOWING),
        (Goal.ONBOARDING, Format.BUDDIES),
        (Goal.WELLBEING, Format.CIRCLES),
        (Goal.NETWORKING, Format.PAIRS),
        (Goal.SKILL_LEARNING, Format.PAIRS),
        (Goal.CAREER_EXPLORATION, Format.SHADOWING),
    ],
)
def test_each_goal_gives_a_format_and_a_policy_the_engine_accepts(goal, expected_format):
    defaults = program_defaults([goal])
    assert defaults.format == expected_format
    validate_policy(defaults.matching_policy, question_kinds=question_kinds(defaults))
    assert defaults.matching_policy["criterion"], "every goal scores on something"
    # No one is ever matched with someone in their own reporting line.
    assert {"kind": "not_in_reporting_line"} in defaults.matching_policy["constraint"]
    assert defaults.success_metrics[0]["key"] == "match_rate"
    assert defaults.success_metrics[0]["target"] == 70
    assert [q.key for q in defaults.questions][-1] == "hopes"


@pytest.mark.parametrize("program_format", Format.values)
def test_each_format_with_each_goal_gives_a_valid_policy(program_format):
    for goal in Goal.values:
        defaults = program_defaults([goal], program_format)
        validate_policy(defaults.matching_policy, question_kinds=question_kinds(defaults))
        # Every attribute the policy names is asked for or comes from the directory.
        named = policy_fields(defaults.matching_policy)
        assert named <= set(question_kinds(defaults)) | set(DIRECTORY_ATTRIBUTES)


def test_cross_functional_shadowing_needs_another_department_on_the_same_site():
    policy = program_defaults([Goal.CROSS_FUNCTIONAL]).matching_policy
    assert policy["format"] == "bipartite"
    assert policy["sides"] == {"field": "role", "a": "host", "b": "shadow"}
    assert {"kind": "must_differ", "field": "department"} in policy["constraint"]
    assert {"kind": "must_match", "field": "site"} in policy["constraint"]
    assert rules(policy, "criterion", "complement") == [
        {"kind": "complement", "offer": "skills_offered", "want": "skills_wanted", "weight": 3}
    ]
    assert program_defaults([Goal.CROSS_FUNCTIONAL]).default_capacity == 2


def test_wellbeing_circles_have_a_group_size_and_a_time_zone_gap():
    defaults = program_defaults([Goal.WELLBEING])
    policy = defaults.matching_policy
    assert policy["format"] == "circles"
    assert policy["group_size"] == [4, 6]
    assert policy["objective"] == "participation"
    assert {"kind": "max_gap", "field": "utc_offset", "max": 3} in policy["constraint"]
    assert "support_topics" in question_kinds(defaults)
    assert rules(policy, "criterion", "different") == [
        {"kind": "different", "field": "department", "weight": 1}
    ]


def test_onboarding_buddies_are_bipartite_and_favour_the_same_site_and_role():
    defaults = program_defaults([Goal.ONBOARDING])
    policy = defaults.matching_policy
    assert policy["sides"] == {"field": "role", "a": "buddy", "b": "newcomer"}
    assert {"kind": "same", "field": "site", "weight": 2} in policy["criterion"]
    assert {"kind": "same", "field": "job_title", "weight": 2} in policy["criterion"]
    assert defaults.roles == ("buddy", "newcomer")
    assert "time_to_productivity_days" in [m["key"] for m in defaults.success_metrics]


def test_networking_pairs_reach_across_departments():
    defaults = program_defaults([Goal.NETWORKING])
    assert defaults.matching_policy["format"] == "pairs"
    assert {"kind": "different", "field": "department", "weight": 3} in defaults.matching_policy[
        "criterion"
    ]
    assert "cross_team_ties" in [m["key"] for m in defaults.success_metrics]


def test_skill_learning_asks_both_halves_of_the_skill_exchange():
    defaults = program_defaults([Goal.SKILL_LEARNING])
    kinds = question_kinds(defaults)
    assert kinds["skills_offered"] == QuestionKind.SKILLS_OFFERED
    assert kinds["skills_wanted"] == QuestionKind.SKILLS_WANTED
    assert "goal_completion" in [m["key"] for m in defaults.success_metrics]


def test_help_network_asks_for_topics_even_without_a_skill_goal():
    defaults = program_defaults([Goal.NETWORKING], Format.HELP_NETWORK)
    assert question_kinds(defaults)["skills_offered"] == QuestionKind.SKILLS_OFFERED
    assert defaults.questions[0].label == "Topics you can help with"
    assert rules(defaults.matching_policy, "criterion", "complement")


def test_two_goals_merge_without_duplicates_and_keep_the_larger_weight():
    defaults = program_defaults([Goal.SKILL_LEARNING, Goal.CROSS_FUNCTIONAL])
    keys = [q.key for q in defaults.questions]
    assert len(keys) == len(set(keys))
    complements = rules(defaults.matching_policy, "criterion", "complement")
    assert len(complements) == 1
    assert complements[0]["weight"] == 3
    metric_keys = [m["key"] for m in defaults.success_metrics]
    assert len(metric_keys) == len(set(metric_keys))


def test_format_votes_and_ties_go_to_the_more_structured_format():
    assert default_format([Goal.NETWORKING, Goal.SKILL_LEARNING]) == Format.PAIRS
    assert default_format([Goal.NETWORKING, Goal.CROSS_FUNCTIONAL]) == Format.SHADOWING
    assert default_format([Goal.ONBOARDING, Goal.NETWORKING]) == Format.BUDDIES
    assert default_format([]) == Format.PAIRS
    assert program_defaults(["not-a-goal", Goal.WELLBEING]).format == Format.CIRCLES


def test_defaults_are_fresh_copies_that_callers_may_edit():
    first = program_defaults([Goal.SKILL_LEARNING])
    first.matching_policy["criterion"][0]["weight"] = 99
    assert program_defaults([Goal.SKILL_LEARNING]).matching_policy["criterion"][0]["weight"] == 3


def test_training_starts_with_the_basics_and_a_three_question_quiz():
    modules = default_training(Format.PAIRS)
    assert [m.title for m in modules] == ["Being a good peer mentor", "Peer mentoring check"]
    assert modules[0].kind == TrainingKind.ACKNOWLEDGE
    quiz = modules[1].as_dict()["quiz"]
    assert modules[1].kind == TrainingKind.QUIZ and len(quiz) == 3
    for item in quiz:
        assert 0 <= item["answer"] < len(item["choices"])
    assert [m.title for m in default_training(Format.SHADOWING)][-1] == (
        "Hosting and shadowing safely"
    )


def test_every_metric_has_a_label_and_description():
    for metric in METRICS.values():
        assert metric.label and metric.description


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ([], "must be an object"),
        ({"format": "triples"}, "Format must be one of"),
        ({"objective": "speed"}, "Objective must be one of"),
        ({"min_score": 2}, "minimum score"),
        ({"format": "bipartite"}, "needs sides"),
        ({"format": "circles", "group_size": [1, 4]}, "group_size"),
        ({"group_size": [4, 6]}, "Only a circles policy"),
        ({"criterion": [{"kind": "near", "field": "years_experience"}]}, "scale"),
        ({"criterion": [{"kind": "near", "field": "department", "scale": 2}]}, "can't use it"),
        ({"criterion": [{"kind": "same", "field": "shoe_size", "weight": 1}]}, "shoe_size"),
        ({"criterion": [{"kind": "same", "field": "site", "weight": 0}]}, "weight above 0"),
        ({"criterion": [{"kind": "similar", "field": "site"}]}, "kind"),
        ({"constraint": [{"kind": "max_gap", "field": "utc_offset", "max": -1}]}, "max of 0"),
        ({"constraint": [{"kind": "must_match"}]}, "needs a field"),
        ({"weights": {}}, "Unknown policy setting"),
    ],
)
def test_policy_validation_names_what_is_wrong(policy, message):
    with pytest.raises(ApplicationError) as error:
        validate_policy(policy, question_kinds={"interests": QuestionKind.MULTIPLE_CHOICE})
    assert message in error.value.message
    assert error.value.field == "matching_policy"


def test_policy_may_use_number_questions_with_near():
    validate_policy(
        {"criterion": [{"kind": "near", "field": "hours", "scale": 5, "weight": 1}]},
        question_kinds={"hours": QuestionKind.NUMBER},
    )


def test_renaming_and_removing_a_field_in_a_policy():
    policy = program_defaults([Goal.SKILL_LEARNING]).matching_policy
    renamed = policy_rename_field(policy, "skills_wanted", "wants")
    assert "wants" in policy_fields(renamed) and "skills_wanted" not in policy_fields(renamed)
    assert "skills_wanted" in policy_fields(policy), "the original is untouched"
    trimmed, removed = policy_without_field(policy, "skills_offered")
    assert removed == 1
    assert "skills_offered" not in policy_fields(trimmed)


def test_rules_read_as_plain_language():
    labels = {"department": "department"}
    assert describe_rule({"kind": "must_differ", "field": "department"}, labels) == (
        "never the same department"
    )
    assert "reporting line" in describe_rule({"kind": "not_in_reporting_line"}, labels)
