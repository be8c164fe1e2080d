"""A small, sandboxed Scheme for config directives (`#{scheme ...}`) and logpro rule files.

Nothing here imports the rest of megatest, so both `megatest.config` and
`megatest.executor` use it. Modules: `reader` (text to data), `values` and `printer` (the
data and how `display`/`write` show it), `evaluator` (special forms, closures, tail calls,
step and depth limits), `builtins` with `numbers`, `lists`, `strings`, `regex` and
`equality` (the procedures). The language is the part of CHICKEN Scheme that areas and rule
files write; callers add their own procedures (Megatest's config lookups, logpro's rules).
It has no file writes and no process starts; a name it lacks is an `UnboundName` error
saying which.
"""

from importlib import import_module
from typing import Any

# Names re-exported from the submodules, loaded on first use (PEP 562): a module that needs
# only `megatest.scheme.regex` (the itemmap substitution) does not load the evaluator.
_EXPORTS = {
    "SchemeError": "errors", "SchemeLimitError": "errors", "UnboundName": "errors",
    "Interpreter": "evaluator", "Lambda": "evaluator",
    "display": "printer", "write": "printer",
    "Reader": "reader", "read_all": "reader",
    "NIL": "values", "UNSPECIFIED": "values", "Char": "values", "Keyword": "values", "Pair": "values",
    "Regexp": "values", "Symbol": "values", "make_list": "values", "to_pylist": "values",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'megatest.scheme' has no attribute {name!r}")
    value = getattr(import_module(f"megatest.scheme.{module}"), name)
    globals()[name] = value
    return value
