"""Staff names for display: who recorded a concern, made an override or wrote a note is shown
by the person's name and position (what colleagues know them by), not their user name."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from mapping_tool.services.context import UserSession
from mapping_tool.store.models import Account


def staff_names(user: UserSession, usernames: Iterable[str]) -> dict[str, str]:
    """user name -> "Name (Position)" for the accounts that exist; others keep the user name.
    Any signed-in user may read colleagues' names (they appear beside records they made)."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    with user.store.read() as session:
        rows = session.execute(
            select(Account.username, Account.display_name, Account.position).where(Account.username.in_(wanted))
        ).all()
    names = {u: u for u in wanted}
    for username, display, position in rows:
        if display:
            names[username] = f"{display} ({position})" if position else display
    return names
