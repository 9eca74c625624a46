"""Commands: the access policy: show it, narrow a role (need to know) or restore an item."""

from __future__ import annotations

import argparse

from mapping_tool.cli._common import _out, _Parser, _with_user
from mapping_tool.errors import UsageError

SCHOOL_ROLES = ("principal", "welfare", "year-level-coordinator", "home-group-teacher")


def _item(name: str) -> str:
    from mapping_tool.security.policy import ITEMS

    item = name.strip().lower()
    if item not in ITEMS:
        raise UsageError(f"Unknown data item '{name}'. Choose one of: {', '.join(ITEMS)}.")
    return item


def cmd_policy_show(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.security.policy import ITEMS
    from mapping_tool.security.roles import Role
    from mapping_tool.services import students

    user.require(Role.CUSTODIAN, Role.PRINCIPAL)
    policy = students.effective_policy(user)
    _out("Who may see each data item (the privacy assessment's table, with this school's narrowing):")
    _out(f"{'item':<24}" + "".join(f"{r:<24}" for r in SCHOOL_ROLES))
    for item in ITEMS:
        cells = []
        for role in SCHOOL_ROLES:
            if policy.ceiling(role, item) != "Y":
                cells.append("no (table)")
            elif policy.allows_item(role, item):
                cells.append("yes")
            else:
                cells.append("narrowed")
        _out(f"{item:<24}" + "".join(f"{c:<24}" for c in cells))
    _out("Derived fields follow what they are computed from:")
    for name, inputs in policy.derived.items():
        _out(f"  {name}: needs {', '.join(inputs)}")
    _out("Flag counts and tiers count only the flags a role may see.")
    return 0


def _change(args: argparse.Namespace, user, allowed: bool) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.security.roles import Role
    from mapping_tool.services import students

    role = Role.parse(args.role)
    item = _item(args.item)
    students.set_narrowing(user, role, item, allowed=allowed)
    policy = students.effective_policy(user)
    title = policy.titles[item].lower()
    if allowed:
        _out(f"{role.title} may see {title} again (as the privacy assessment allows); recorded in the audit log.")
    else:
        _out(f"{role.title} may no longer see {title}, nor the flags computed from it; recorded in the audit log.")
    return 0


def cmd_policy_narrow(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    return _change(args, user, allowed=False)


def cmd_policy_restore(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    return _change(args, user, allowed=True)


def register(sub: argparse._SubParsersAction) -> None:
    policy_p = sub.add_parser("policy", help="the access policy: show it, narrow a role's access or restore it (data custodian)")
    psub = policy_p.add_subparsers(dest="policy_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = psub.add_parser("show", help="who may see each data item, and what derived fields need")
    p.set_defaults(handler=_with_user(cmd_policy_show))
    p = psub.add_parser("narrow", help="stop ROLE seeing ITEM (need to know); never wider than the privacy assessment")
    p.add_argument("role", metavar="ROLE", help="principal, welfare, year-level-coordinator or home-group-teacher")
    p.add_argument("item", metavar="ITEM", help="a data item as named in resources/access_policy.json, e.g. occupation_of_parents")
    p.set_defaults(handler=_with_user(cmd_policy_narrow))
    p = psub.add_parser("restore", help="let ROLE see ITEM again, up to what the privacy assessment allows")
    p.add_argument("role", metavar="ROLE")
    p.add_argument("item", metavar="ITEM")
    p.set_defaults(handler=_with_user(cmd_policy_restore))
