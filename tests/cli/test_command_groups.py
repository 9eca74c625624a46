"""The command line builds only the named command's group of parsers, and means the same."""

from __future__ import annotations

import pytest

from mapping_tool.cli import COMMAND_GROUPS, _command_named, build_parser
from mapping_tool.cli._common import _Parser

ALL_COMMANDS = [c for _, commands in COMMAND_GROUPS for c in commands]


def _choices(parser) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return next(a for a in parser._actions if a.dest == "command").choices  # noqa: SLF001


@pytest.mark.parametrize(("group", "commands"), COMMAND_GROUPS, ids=[g.__name__.rsplit(".", 1)[1] for g, _ in COMMAND_GROUPS])
def test_each_group_adds_the_commands_listed_for_it(group, commands) -> None:  # type: ignore[no-untyped-def]
    parser = _Parser()
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    group.register(sub)
    assert tuple(sub.choices) == commands


def test_no_command_is_listed_twice() -> None:
    assert len(ALL_COMMANDS) == len(set(ALL_COMMANDS))


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["--store", "S", "--user", "jsmith", "import", "--cases21", "D"], "import"),
        (["--store=S", "--user=jsmith", "students", "--out", "x.csv"], "students"),
        (["--us", "store", "import"], "import"),  # an abbreviated option's value is not the command
        (["--sto", "records", "--u", "audit", "policy", "show"], "policy"),
        (["-h", "import"], None),  # help before the command lists every command
        (["--he"], None),
        (["--version"], None),
        ([], None),
        (["--user", "jsmith"], None),
        (["no-such-command"], "no-such-command"),
        (["--version", "import"], "import"),
        (["--", "import"], None),  # anything unusual before the command: every group reads it
        (["--user", "u", "--", "import"], None),
        (["-", "import"], None),
        (["-1", "import"], None),
        (["-x y", "import"], None),
        (["--store=", "import"], "import"),
    ],
)
def test_the_command_a_command_line_names(argv: list[str], command: str | None) -> None:
    assert _command_named(argv) == command


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_a_command_alone_has_the_same_parser_and_help_as_with_every_group(command: str) -> None:
    full = _choices(build_parser())
    alone = build_parser(["--user", "u", command])
    group = next(commands for _, commands in COMMAND_GROUPS if command in commands)
    assert list(_choices(alone)) == list(group)
    assert _choices(alone)[command].format_help() == full[command].format_help()


@pytest.mark.parametrize(
    "argv",
    [
        ["--store", "S", "--user", "custodian", "import", "--cases21", "D", "--accept-warnings"],
        ["--user", "u", "students", "--out", "x.xlsx", "--force"],
        ["--us", "store", "audit", "verify"],
        ["--user", "u", "agencies", "update", "Youth Connect", "--new-name", "Youth Link", "--reason", "renamed"],
        ["--user", "u", "policy", "narrow", "home_group_teacher", "parent_occupation"],
    ],
)
def test_a_command_line_means_the_same_either_way(argv: list[str]) -> None:
    def meaning(parser) -> dict:  # type: ignore[no-untyped-def,type-arg]
        found = vars(parser.parse_args(argv))
        handler = found.pop("handler")  # a closure made at each registration: what it wraps and runs
        found["handler"] = (handler.__code__, [c.cell_contents for c in handler.__closure__ or ()])
        return found

    lazy, full = meaning(build_parser(argv)), meaning(build_parser())
    assert lazy == full
    assert lazy["command"] == argv[argv.index(_command_named(argv))]


def test_help_and_an_unknown_command_still_list_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    text = build_parser(["--help"]).format_help()
    assert all(c in text for c in ALL_COMMANDS)
    with pytest.raises(SystemExit):
        build_parser(["no-such-command"]).parse_args(["no-such-command"])
    err = capsys.readouterr().err
    assert "invalid choice: 'no-such-command'" in err and all(f"'{c}'" in err for c in ALL_COMMANDS)


@pytest.mark.parametrize("argv", [["--", "import", "-h"], ["--user", "u", "--", "import"], ["-", "import"],
                                  ["-1", "import"], ["-x y", "import"], ["--user", "-h", "import"]])
def test_a_command_line_refused_is_refused_in_the_same_words(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    said = []
    for parser in (build_parser(argv), build_parser()):
        with pytest.raises(SystemExit) as stopped:
            parser.parse_args(argv)
        said.append((stopped.value.code, capsys.readouterr()))
    assert said[0] == said[1] and said[0][0] != 0
