"""Per-study access: the membership table, the role table and the one check.

The routes' side (every researcher route refuses a researcher of another study) is in
``test_privacy.py``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dyadlab.exceptions import OptionError
from dyadlab.platform.errors import ConflictError, ForbiddenError, NotFoundError
from dyadlab.platform.protocol import load_protocol
from dyadlab.platform.services import access
from dyadlab.platform.services.studies import create_study, list_studies
from dyadlab.platform.tables import AuditLog, Researcher, StudyMember
from tests.platform.conftest import ANALYST, OWNER, researcher_id

OTHER = ("other@lab.example", "another long passphrase")

#: The role table of docs/reference/access.md, written out independently of the code.
EXPECTED = {
    "owner": {
        "read",
        "compliance",
        "export",
        "invite",
        "withdraw",
        "members",
        "interview",
        "run_sessions",
    },
    "collaborator": {"read", "compliance", "export", "invite", "interview", "run_sessions"},
    "analyst": {"read", "compliance", "export"},
    "monitor": {"read", "compliance"},
    "interviewer": {"read", "interview"},
}


def _study(session, protocol_path, creator=OWNER):
    return create_study(
        session, load_protocol(protocol_path), created_by=researcher_id(session, creator)
    )


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_role_table(role):
    got = {action for action in access.PERMISSIONS if access.allowed(role, action)}
    assert got == EXPECTED[role]
    assert not any(access.allowed(None, action) for action in access.PERMISSIONS)


def test_unknown_action_is_refused():
    with pytest.raises(OptionError, match="'delete'"):
        access.allowed("owner", "delete")


def test_creator_becomes_owner(session, protocol_path):
    study = _study(session, protocol_path)
    session.commit()
    row = session.scalars(select(StudyMember)).one()
    assert (row.study_id, row.role) == (study.id, "owner")
    assert row.researcher_id == study.created_by


def test_non_member_gets_the_missing_study_answer(session, protocol_path):
    study = _study(session, protocol_path)
    other = session.get(Researcher, researcher_id(session, OTHER))
    with pytest.raises(NotFoundError) as not_member:
        access.study_for(session, other, study.id, "read")
    with pytest.raises(NotFoundError) as missing:
        access.study_for(session, other, study.id + 1000, "read")
    assert str(not_member.value).replace(str(study.id), "N") == str(missing.value).replace(
        str(study.id + 1000), "N"
    )
    owner = session.get(Researcher, study.created_by)
    assert access.study_for(session, owner, study.id, "members") is study


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_members_get_403_for_what_their_role_does_not_allow(session, protocol_path, role):
    study = _study(session, protocol_path)
    researcher_id(session, ANALYST, role="analyst")
    access.add_member(session, study.id, ANALYST[0], role)
    member = session.scalars(select(Researcher).where(Researcher.email == ANALYST[0])).one()
    for action in access.PERMISSIONS:
        if action in EXPECTED[role]:
            assert access.study_for(session, member, study.id, action) is study
        else:
            with pytest.raises(ForbiddenError, match=f"\\({role}\\) does not allow"):
                access.study_for(session, member, study.id, action)


def test_list_studies_shows_only_own_studies(session, protocol_path):
    mine = _study(session, protocol_path)
    theirs = _study(session, protocol_path, creator=OTHER)
    session.commit()
    assert [s.study.id for s in list_studies(session)] == [mine.id, theirs.id]
    assert [s.study.id for s in list_studies(session, member=mine.created_by)] == [mine.id]
    assert access.member_roles(session, theirs.created_by) == {theirs.id: "owner"}


def test_add_change_and_remove_members_are_audited(session, protocol_path):
    study = _study(session, protocol_path)
    owner = study.created_by
    analyst = researcher_id(session, ANALYST, role="analyst")
    access.add_member(session, study.id, " Analyst@Lab.example ", "monitor", by=owner)
    access.add_member(session, study.id, ANALYST[0], "collaborator", by=owner)
    got = [(m.email, m.role) for m in access.list_members(session, study.id)]
    assert got == [(OWNER[0], "owner"), (ANALYST[0], "collaborator")]
    access.remove_member(session, study.id, analyst, by=owner)
    session.commit()
    assert [m.email for m in access.list_members(session, study.id)] == [OWNER[0]]
    rows = session.scalars(select(AuditLog).where(AuditLog.action.like("member%"))).all()
    assert [(r.action, r.study_id, r.subject, r.detail["role"]) for r in rows] == [
        ("member_add", study.id, ANALYST[0], "monitor"),
        ("member_role", study.id, ANALYST[0], "collaborator"),
        ("member_remove", study.id, ANALYST[0], "collaborator"),
    ]
    assert all(r.researcher_id == owner for r in rows)


def test_a_study_keeps_an_owner(session, protocol_path):
    study = _study(session, protocol_path)
    with pytest.raises(ConflictError, match="only owner") as exc:
        access.remove_member(session, study.id, study.created_by)
    assert exc.value.code == "last_owner"
    with pytest.raises(ConflictError, match="only owner"):
        access.add_member(session, study.id, OWNER[0], "analyst")
    researcher_id(session, ANALYST, role="analyst")
    access.add_member(session, study.id, ANALYST[0], "owner")
    access.add_member(session, study.id, OWNER[0], "analyst")  # now there is another owner
    roles = {m.email: m.role for m in access.list_members(session, study.id)}
    assert roles == {ANALYST[0]: "owner", OWNER[0]: "analyst"}


def test_member_errors_name_what_is_wrong(session, protocol_path):
    study = _study(session, protocol_path)
    with pytest.raises(NotFoundError, match=r"no researcher account 'nobody@lab\.example'") as exc:
        access.add_member(session, study.id, "nobody@lab.example", "analyst")
    assert exc.value.code == "no_account"
    with pytest.raises(OptionError, match="'boss'"):
        access.add_member(session, study.id, OWNER[0], "boss")
    with pytest.raises(NotFoundError, match="not a member"):
        access.remove_member(session, study.id, 12345)


def test_the_role_table_is_documented():
    from pathlib import Path

    page = Path(__file__).parents[2] / "docs" / "reference" / "access.md"
    text = page.read_text(encoding="utf-8")
    header = "| study role | " + " | ".join(access.PERMISSIONS) + " |"
    assert header in text
    for role in access.STUDY_ROLES:
        cells = " | ".join("yes" if access.allowed(role, a) else "no" for a in access.PERMISSIONS)
        assert f"| {role} | {cells} |" in text, role
    assert {
        role: {a for a in access.PERMISSIONS if access.allowed(role, a)}
        for role in access.STUDY_ROLES
    } == EXPECTED
