"""The config-file checks by name: plain functions `(text, path) -> [(line, column, end_line,
end_column, message)]` for structure that patterns cannot express (mostly what is absent).
A check raises `ConfigUnparseable` when the file cannot be read as its format."""

from __future__ import annotations

from prodaudit.checks import dockerfile, kubernetes, sql, sql_pg
from prodaudit.checks.configbase import ConfigCheck, ConfigUnparseable, Hit

CONFIG_CHECKS: dict[str, ConfigCheck] = {
    "k8s.missing_readiness_probe": kubernetes.missing_readiness_probe,
    "k8s.missing_liveness_probe": kubernetes.missing_liveness_probe,
    "k8s.missing_resources": kubernetes.missing_resources,
    "dockerfile.runs_as_root": dockerfile.runs_as_root,
    "sql.drops_data": sql.drops_data,
    # PostgreSQL migrations, on the real PostgreSQL parser (pglast); see sql_pg's docstring.
    "sql_pg.add_not_null_column": sql_pg.add_not_null_column,
    "sql_pg.index_without_concurrently": sql_pg.index_without_concurrently,
    "sql_pg.column_type_change": sql_pg.column_type_change,
    "sql_pg.constraint_validation_scan": sql_pg.constraint_validation_scan,
    "sql_pg.missing_lock_timeout": sql_pg.missing_lock_timeout,
    "sql_pg.update_without_where": sql_pg.update_without_where,
    "sql_pg.add_column_rewrites_table": sql_pg.add_column_rewrites_table,
}

__all__ = ["CONFIG_CHECKS", "ConfigCheck", "ConfigUnparseable", "Hit"]
