"""A Django model field as a migration writes it, and the PostgreSQL column it makes.

`column_change(old, new)` says whether redefining a field changes its column in a way that rewrites
or re-checks the table: only well-known Django field classes with literal options are compared, and
anything else (a third-party field, `max_length=SOME_CONSTANT`) compares as "unknown", never as a
change."""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from prodaudit.checks._imports import last_name


class _Unknown:
    """A keyword argument whose value is not a literal (`default=timezone.now`, `max_length=N`)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class FieldDef:
    """A field as written in a migration: `models.CharField(max_length=10, null=True)`."""

    kind: str  # the class name: "CharField"
    options: tuple[tuple[str, object], ...]  # keyword -> literal value, or UNKNOWN
    module: str = "models"  # what the class is read from, as written: "models", "jsonfield.fields", "" (bare)

    def get(self, key: str, default: object = None) -> object:
        for k, v in self.options:
            if k == key:
                return v
        return default

    @property
    def nullable(self) -> bool | None:
        """NULL allowed? None when `null=` is not a literal."""
        if self.kind == "NullBooleanField":
            return True
        null = self.get("null", False)
        return None if null is UNKNOWN else null is True

    @property
    def unique(self) -> bool | None:
        """A unique index on the column? None when it cannot be read."""
        if self.kind == "OneToOneField":
            return True
        values = (self.get("unique", False), self.get("primary_key", False))
        if any(v is UNKNOWN for v in values):
            return None
        return any(v is True for v in values)

    @property
    def has_column(self) -> bool:
        return self.kind not in ("ManyToManyField", "GeneratedField")


def field_def(node: ast.expr | None) -> FieldDef | None:
    """The FieldDef of a field expression; None when it is not a plain call (`**kwargs`, a helper)."""
    if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args):
        return None
    kind = _last_name(node.func)
    if not kind:
        return None
    options: dict[str, object] = {}
    for kw in node.keywords:
        if kw.arg is None:  # **kwargs
            return None
        options[kw.arg] = literal(kw.value)
    if node.args and kind in ("ForeignKey", "OneToOneField", "ManyToManyField") and "to" not in options:
        options["to"] = literal(node.args[0])
    elif node.args and kind == "DecimalField" and len(node.args) > 2:
        return None  # max_digits given by position: too rare to read
    return FieldDef(kind, tuple(sorted(options.items())), _dotted(node.func.value) if isinstance(node.func, ast.Attribute) else "")


def field_def_from_cst(node: cst.BaseExpression | None) -> FieldDef | None:
    """The FieldDef of a LibCST field expression (read directly: LibCST code generation is slow)."""
    if not isinstance(node, cst.Call) or any(a.star for a in node.args):
        return None
    kind = last_name(node.func)
    if not kind:
        return None
    options: dict[str, object] = {}
    positional = [a for a in node.args if a.keyword is None]
    for arg in node.args:
        if arg.keyword is not None:
            options[arg.keyword.value] = cst_literal(arg.value)
    if positional and kind in ("ForeignKey", "OneToOneField", "ManyToManyField") and "to" not in options:
        options["to"] = cst_literal(positional[0].value)
    elif positional and kind == "DecimalField" and len(positional) > 2:
        return None
    module = _cst_dotted(node.func.value) if isinstance(node.func, cst.Attribute) else ""
    return FieldDef(kind, tuple(sorted(options.items())), module)


def cst_literal(node: cst.BaseExpression) -> object:
    """The Python value of a literal LibCST expression (what `ast.literal_eval` accepts), else UNKNOWN."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float)):
        value = node.evaluated_value
        return UNKNOWN if value is None else value
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        value = cst_literal(node.expression)
        return -value if isinstance(value, (int, float)) and not isinstance(value, bool) else UNKNOWN
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        items = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                return UNKNOWN
            value = cst_literal(element.value)
            if value is UNKNOWN:
                return UNKNOWN
            items.append(value)
        if isinstance(node, cst.Tuple):
            return tuple(items)
        if isinstance(node, cst.List):
            return items
        try:
            return set(items)
        except TypeError:  # an unhashable element
            return UNKNOWN
    if isinstance(node, cst.Call) and last_name(node.func) == "set" and not node.args:
        return set()
    if isinstance(node, cst.Dict):
        out = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return UNKNOWN
            key, value = cst_literal(element.key), cst_literal(element.value)
            if key is UNKNOWN or value is UNKNOWN:
                return UNKNOWN
            try:
                out[key] = value
            except TypeError:
                return UNKNOWN
        return out
    return UNKNOWN


def field_def_from_source(code: str) -> FieldDef | None:
    """The FieldDef of a field expression given as source text (a LibCST node's code)."""
    try:
        return field_def(ast.parse(code.strip(), mode="eval").body)
    except (SyntaxError, ValueError, RecursionError):
        return None


def literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _cst_dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_cst_dotted(node.value)}.{node.attr.value}"
    return "?"


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


# --- the column on PostgreSQL ----------------------------------------------------------------------

# varchar fields and the max_length Django gives them when none is written (None: no limit).
_VARCHAR = {
    "CharField": None, "SlugField": 50, "EmailField": 254, "URLField": 200,
    "FileField": 100, "ImageField": 100, "FilePathField": 100,
}  # fmt: skip
_SIMPLE = {
    "TextField": "text",
    "SmallIntegerField": "smallint", "PositiveSmallIntegerField": "smallint", "SmallAutoField": "smallint",
    "IntegerField": "integer", "PositiveIntegerField": "integer", "AutoField": "integer",
    "BigIntegerField": "bigint", "PositiveBigIntegerField": "bigint", "BigAutoField": "bigint",
    "BooleanField": "boolean", "NullBooleanField": "boolean", "FloatField": "double precision",
    "DateField": "date", "DateTimeField": "timestamp with time zone", "TimeField": "time",
    "DurationField": "interval", "UUIDField": "uuid", "JSONField": "jsonb", "BinaryField": "bytea",
    "GenericIPAddressField": "inet", "IPAddressField": "inet",
}  # fmt: skip


# Where Django's own field classes are read from in migrations (makemigrations writes `models.X`
# and the full module path of any third-party field, e.g. `jsonfield.fields.JSONField`, a text
# column despite its name); a bare name is taken for Django's.
_DJANGO_MODULES = {"", "models", "django.db.models", "django.db.models.fields", "django.contrib.postgres.fields"}


def column_type(field: FieldDef) -> tuple | None:
    """("varchar", n | None), ("numeric", digits, places), ("fk", "app.model"), (sql name,), or None
    when the column type cannot be told from the definition."""
    if field.module not in _DJANGO_MODULES:
        return None
    if field.kind in _VARCHAR:
        length = field.get("max_length", _VARCHAR[field.kind])
        return ("varchar", length) if length is None or type(length) is int else None
    if field.kind == "DecimalField":
        digits, places = field.get("max_digits"), field.get("decimal_places")
        return ("numeric", digits, places) if type(digits) is int and type(places) is int else None
    if field.kind in ("ForeignKey", "OneToOneField"):
        to = field.get("to")
        return ("fk", to.lower()) if isinstance(to, str) else None
    if field.kind in _SIMPLE:
        return (_SIMPLE[field.kind],)
    return None


@dataclass(frozen=True)
class ColumnChange:
    kind: str  # "type" (another type: the table is rewritten) | "narrow" (a smaller type: checked, may fail)
    old: str
    new: str


def column_change(old: FieldDef, new: FieldDef) -> ColumnChange | None:
    """How the column changes from `old` to `new`; None for no change, a change PostgreSQL makes
    without touching the rows (varchar to text, a longer varchar, more digits), or unknown types."""
    before, after = column_type(old), column_type(new)
    if before is None or after is None or before == after:
        return None
    if "fk" in (before[0], after[0]):
        return None  # the key's type is the target's primary key type: not known here
    b, a = _sql(before), _sql(after)
    if before[0] == "varchar" and after[0] == "varchar":
        if after[1] is not None and (before[1] is None or after[1] < before[1]):
            return ColumnChange("narrow", b, a)
        return None
    if before[0] == "varchar" and after[0] == "text":
        return None
    if before[0] == "text" and after[0] == "varchar":
        return ColumnChange("narrow", b, a) if after[1] is not None else None
    if before[0] == "numeric" and after[0] == "numeric":
        (_, d0, p0), (_, d1, p1) = before, after
        if p1 < p0 or d1 - p1 < d0 - p0:
            return ColumnChange("narrow", b, a)
        return ColumnChange("type", b, a) if p1 != p0 else None  # a new scale rewrites every value
    return ColumnChange("type", b, a)


def _sql(column: tuple) -> str:
    if column[0] == "varchar":
        return f"varchar({column[1]})" if column[1] is not None else "varchar"
    if column[0] == "numeric":
        return f"numeric({column[1]},{column[2]})"
    return column[0]
