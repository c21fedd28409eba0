"""`hookd app`: applications, the customers messages are sent to (/api/v1/app)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from hookd.commands.inputs import pairs
from hookd.commands.resource import REQUIRED, Field, Param, Resource, both, build, only_true

AppArgument = Annotated[str, typer.Argument(help="the application's id or uid", show_default=False)]
NameArgument = Annotated[str, typer.Argument(help="its name", show_default=False)]
NewNameOption = Annotated[str | None, typer.Option(help="a new name", show_default=False)]
UidOption = Annotated[
    str | None, typer.Option(help="your own id for it (letters, digits, - _ .)", show_default=False)
]
RateLimitOption = Annotated[
    int | None, typer.Option(min=1, help="messages a second at most", show_default=False)
]
MetadataOption = Annotated[
    list[str] | None, typer.Option(help="key=value, repeatable", show_default=False)
]
GetIfExistsFlag = Annotated[
    bool,
    typer.Option("--get-if-exists", help="answer the application with this uid if there is one"),
]
name = Field("name", "name", create=Param(NameArgument, REQUIRED), update=Param(NewNameOption))
metadata = both("metadata", "metadata", MetadataOption, partial(pairs, option="--metadata"))

APP = Resource(
    name="app",
    help="Applications: who messages are sent to (/api/v1/app).",
    path="/api/v1/app",
    argument=("app", AppArgument),
    columns=("id", "uid", "name", "rateLimit", "createdAt"),
    fields=(
        name,
        both("uid", "uid", UidOption),
        both("rate_limit", "rateLimit", RateLimitOption),
        metadata,
        Field(
            "get_if_exists",
            "get_if_exists",
            create=Param(GetIfExistsFlag, False, only_true),
            query=True,
        ),
    ),
    helps={
        "list": "List applications.",
        "get": "Show an application.",
        "create": "Create an application.",
        "update": "Change the fields given of an application (PATCH).",
        "delete": "Delete an application with its endpoints and messages.",
    },
    deleted="deleted application {}",
)
family = build(APP)


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
