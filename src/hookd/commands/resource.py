"""One builder for the families that are a resource's list, get, create, update and delete.

A ``Resource`` says what differs from one such family to the next (its path, the id argument,
the table's columns, each verb's help, and its ``Field``s: what each verb reads from its
command line and sends); ``build(resource)`` makes the ``Family`` with those verbs, and the
module adds the verbs only it has (``hookd endpoint recover``, ``hookd source rotate-url``)::

    APP = Resource(
        name="app",
        help="Applications: ...",
        path="/api/v1/app",
        argument=("app", AppArgument),
        columns=("id", "uid", "name"),
        fields=(Field("name", "name", create=Param(NameArgument, REQUIRED)), ...),
        helps={"list": "List applications.", "get": "Show an application.", ...},
        deleted="deleted application {}",
    )
    family = build(APP)

Every verb is an ``ApiCommand`` (the shared options, errors and exit codes of ``family``). A
verb's command line: the parents' ids (an endpoint's application), then its own id (get,
update, delete), then the fields' options in the order given, then ``--data`` (create,
update); a list takes the fields' ``filter``s and the paging options.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import typer

from hookd.commands.family import (
    DataOption,
    Family,
    IteratorOption,
    LimitOption,
    api,
    page,
    route,
    say,
    show,
)
from hookd.commands.inputs import body
from hookd.commands.output import Column

REQUIRED: Any = inspect.Parameter.empty  # a Param's default: the command line must give it
VERBS = ("list", "get", "create", "update", "delete")


@dataclass(frozen=True)
class Param:
    """How a verb takes a field: its typer annotation and default; ``value`` turns what was
    given into what is sent (None is never sent)."""

    annotation: Any
    default: Any = None
    value: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Field:
    """A value the verbs send: ``key`` in the body (``query``: in the query string), read
    from the parameter ``name`` (its option is named after it unless the annotation names
    one) where a verb takes it: ``create``, ``update``, or a list's ``filter``."""

    name: str
    key: str
    create: Param | None = None
    update: Param | None = None
    filter: Param | None = None  # a list's
    query: bool = False
    convert: Callable[[Any], Any] | None = None  # on every verb, before a Param's value

    def read(self, verb: str, given: Any) -> Any:
        value = self.convert(given) if self.convert is not None else given
        param = self.param(verb)
        if param is not None and param.value is not None:
            value = param.value(value)
        return value

    def param(self, verb: str) -> Param | None:
        return {"create": self.create, "update": self.update, "list": self.filter}.get(verb)


def both(
    name: str, key: str, annotation: Any, convert: Callable[[Any], Any] | None = None
) -> Field:
    """A field create and update take alike (an option, None when not given)."""
    return Field(name, key, create=Param(annotation), update=Param(annotation), convert=convert)


def switch(name: str, key: str, flag: Any, toggle: Any) -> Field:
    """A boolean field: a create's ``flag`` (sent only when given) and an update's ``toggle``
    (``--x/--no-x``, sent when either is given)."""
    return Field(name, key, create=Param(flag, False, only_true), update=Param(toggle))


def only_true(value: Any) -> Any:
    """A create's flag: sent when given, left out (the server's default) when not."""
    return value or None


def false_when_given(value: Any) -> Any:
    """A create's flag that turns a field off (``--disabled`` for ``enabled``)."""
    return False if value else None


@dataclass(frozen=True)
class Resource:
    """What a family of list/get/create/update/delete verbs is made of (see the module)."""

    name: str  # the family's name: hookd NAME <verb>
    help: str
    path: str  # the list's path, "{}" for each parent's id: /api/v1/app/{}/endpoint
    argument: tuple[str, Any]  # the id's parameter and annotation
    helps: Mapping[str, str]  # verb -> its help; only these verbs are made, in VERBS' order
    columns: Sequence[Column] = ()
    fields: Sequence[Field] = ()
    parents: Sequence[tuple[str, Any]] = ()  # the parents' ids, before the verb's own
    deleted: str = "deleted {}"  # said on stderr after a delete, with the id given
    # Update by GET and PUT, these fields of what GET shows kept (the server's PUT replaces
    # the whole object); empty: update is a PATCH of the fields given.
    replace: Sequence[str] = ()

    @property
    def one(self) -> str:
        return self.path + "/{}"


def build(resource: Resource) -> Family:
    """The resource's family, with the verbs its ``helps`` name."""
    family = Family(resource.name, help=resource.help)
    makers = {"list": _list, "get": _get, "create": _create, "update": _update, "delete": _delete}
    for verb in VERBS:
        if verb in resource.helps:
            run, params = makers[verb](resource)
            family.command(verb, help=resource.helps[verb])(
                _command(f"{verb}_{resource.name}", run, params)
            )
    return family


Run = Callable[[typer.Context, dict[str, Any]], None]


def _command(name: str, run: Run, params: list[inspect.Parameter]) -> Callable[..., None]:
    """A function whose signature typer reads the verb's parameters from."""

    def command(ctx: typer.Context, **given: Any) -> None:
        run(ctx, given)

    ctx = inspect.Parameter(
        "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
    )
    command.__signature__ = inspect.Signature([ctx, *params])  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in (ctx, *params)}
    command.__name__ = command.__qualname__ = name.replace("-", "_")
    return command


def _param(name: str, annotation: Any, default: Any = REQUIRED) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


def _ids(resource: Resource, *, own: bool) -> list[inspect.Parameter]:
    ids = [*resource.parents, *([resource.argument] if own else [])]
    return [_param(name, annotation) for name, annotation in ids]


def _taken(resource: Resource, verb: str) -> list[Field]:
    return [each for each in resource.fields if each.param(verb) is not None]


def _field_params(resource: Resource, verb: str) -> list[inspect.Parameter]:
    params = []
    for each in _taken(resource, verb):
        param = each.param(verb)
        assert param is not None
        params.append(_param(each.name, param.annotation, param.default))
    return params


def _values(
    resource: Resource, verb: str, given: Mapping[str, Any], *, query: bool
) -> dict[str, Any]:
    taken = (each for each in _taken(resource, verb) if each.query == query)
    return {each.key: each.read(verb, given[each.name]) for each in taken}


def _path(template: str, resource: Resource, given: Mapping[str, Any], *, own: bool) -> str:
    names = [name for name, _ in resource.parents]
    if own:
        names.append(resource.argument[0])
    return route(template, *(given[name] for name in names))


def _list(resource: Resource) -> tuple[Run, list[inspect.Parameter]]:
    def run(ctx: typer.Context, given: dict[str, Any]) -> None:
        filters = {
            each.key: each.read("list", given[each.name]) for each in _taken(resource, "list")
        }
        query = page(given["limit"], given["iterator"], **filters)
        path = _path(resource.path, resource, given, own=False)
        show(ctx, api(ctx).get(path, **query), resource.columns)

    paging = [_param("limit", LimitOption, 50), _param("iterator", IteratorOption, None)]
    return run, [*_ids(resource, own=False), *_field_params(resource, "list"), *paging]


def _get(resource: Resource) -> tuple[Run, list[inspect.Parameter]]:
    def run(ctx: typer.Context, given: dict[str, Any]) -> None:
        show(ctx, api(ctx).get(_path(resource.one, resource, given, own=True)))

    return run, _ids(resource, own=True)


def _create(resource: Resource) -> tuple[Run, list[inspect.Parameter]]:
    def run(ctx: typer.Context, given: dict[str, Any]) -> None:
        sent = body(given["data"], _values(resource, "create", given, query=False))
        query = _values(resource, "create", given, query=True)
        path = _path(resource.path, resource, given, own=False)
        show(ctx, api(ctx).post(path, sent, **query))

    params = [*_ids(resource, own=False), *_field_params(resource, "create")]
    return run, [*params, _param("data", DataOption, None)]


def _update(resource: Resource) -> tuple[Run, list[inspect.Parameter]]:
    def run(ctx: typer.Context, given: dict[str, Any]) -> None:
        client = api(ctx)
        changes = body(given["data"], _values(resource, "update", given, query=False))
        path = _path(resource.one, resource, given, own=True)
        if not resource.replace:
            show(ctx, client.patch(path, changes))
            return
        current: dict[str, Any] = client.get(path)
        kept = {key: current[key] for key in resource.replace if key in current}
        ids = [given[name] for name, _ in resource.parents]
        show(ctx, client.put(route(resource.one, *ids, current["id"]), {**kept, **changes}))

    params = [*_ids(resource, own=True), *_field_params(resource, "update")]
    return run, [*params, _param("data", DataOption, None)]


def _delete(resource: Resource) -> tuple[Run, list[inspect.Parameter]]:
    def run(ctx: typer.Context, given: dict[str, Any]) -> None:
        api(ctx).delete(_path(resource.one, resource, given, own=True))
        say(resource.deleted.format(given[resource.argument[0]]))

    return run, _ids(resource, own=True)
