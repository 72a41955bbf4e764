"""Generated mutants of solutions/<part>.py, beside the hand-written catalog (catalog/bugs.py).

The mutation operators are mutmut's (pinned in requirements.txt): its node operators,
`mutmut.mutation.mutators.mutation_operators`, each a function from a libcst node to the
mutated nodes it proposes (an arithmetic or comparison operator swapped, a number + 1, a
keyword argument such as `axis=1` or `keepdims=True` set to None or dropped, True <-> False,
`is` <-> `is not`, `x += y` -> `x = y`, a conditional expression forced down one branch).
mutmut's own runner is not used: it rewrites the module into "trampolines" that switch
between mutants at run time in one process (and finds its configuration from the project's
setup files), which the grader's sandbox cannot host; here each mutant is a whole module of
its own, graded like a student's. cosmic-ray's `mutate_code` would serve too, but it replaces
each operator by every other one (mostly mutants that raise at once) and brings a database,
git and HTTP client libraries along. A few of mutmut's operators are left out (LEFT_OUT,
below: their mutants raise on the first call, and each costs a grading), and three of the
kit's own complete the classic set: a statement that updates something deleted
(`stmt_deletion`), a return value dropped (`return_none`) and a `seed` not passed on
(`seed_dropped`).

Only the code students write is mutated: the lines between `# BEGIN SOLUTION` and
`# END SOLUTION`. Each mutant is a `catalog.Bug` whose one edit replaces the body of the
mutated function, so everything that grades a catalog bug grades a mutant too.

A mutant's identity is stable across unrelated edits of the file: part, function, operator
and a hash of the mutated line before and after (`mlp/fit/swap_op/3f2a9c1e`), never an index.
Two mutations that produce the same module are one mutant (the first found keeps its id).
"""
import hashlib
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider
from mutmut.mutation.mutators import mutation_operators, operator_arg_removal

from grader.parts import NAMES

from . import ROOT, Bug


@dataclass(frozen=True)
class Mutant:
    """One generated mutant of solutions/<part>.py."""

    id: str          # "<part>/<function>/<operator>/<hash8>", stable
    part: str
    function: str
    operator: str
    line: int        # the first mutated line, in solutions/<part>.py
    before: str      # the mutated line(s) as in the reference, stripped
    after: str       # ... and in the mutant
    bug: Bug         # the mutant as a catalog Bug (its name is a folder-safe slug of the id)


def _names(node):
    return {n.value for n in _walk(node) if isinstance(n, cst.Name)}


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _stmt_deletion(node):
    """A statement that updates something -> `pass` (the statement is deleted): an expression
    statement (`losses.append(...)`), an augmented assignment (`dz /= n`), an item assignment,
    or an assignment that rebinds a name from its own value (`w = w - lr * dw`)."""
    if isinstance(node, cst.SimpleStatementLine) and len(node.body) == 1:
        small = node.body[0]
        deletable = isinstance(small, (cst.Expr, cst.AugAssign)) or (
            isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Subscript) or (isinstance(t.target, cst.Name)
                                                        and t.target.value in _names(small.value))
                for t in small.targets))
        if deletable:
            yield node.with_changes(body=[cst.Pass()])


def _keyword_argument(node):
    """mutmut's arg_removal on keyword arguments only: `axis=1`, `keepdims=True`, `dtype=...` set to None
    or dropped."""
    for mutated in operator_arg_removal(node):
        changed = [a for a, b in zip(node.args, mutated.args) if a is not b] + list(node.args[len(mutated.args):])
        if len(mutated.args) < len(node.args):
            changed = [a for a in node.args if a not in mutated.args]
        if changed and all(a.keyword is not None for a in changed):
            yield mutated


def _seed_dropped(node):
    """A call that passes `seed` (`np.random.default_rng(seed)`, `init_params(sizes, seed)`) without it."""
    if isinstance(node, cst.Call):
        for i, arg in enumerate(node.args):
            if isinstance(arg.value, cst.Name) and arg.value.value == "seed":
                args = [*node.args[:i], *node.args[i + 1:]]
                if args:
                    args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                yield node.with_changes(args=args)


def _return_none(node):
    """`return <value>` -> `return None`."""
    if isinstance(node, cst.Return) and node.value is not None and not (
            isinstance(node.value, cst.Name) and node.value.value == "None"):
        yield node.with_changes(value=cst.Name("None"))


def _mutmut_name(fn):
    return fn.__name__.removeprefix("operator_")


# Left out of mutmut's set, because their mutants raise on the first call of the function (any test
# that calls it catches them) and each costs a grading: an assignment's value set to None (`e = None`:
# the kit's stmt_deletion drops updates instead), a string changed (`"W1"` -> `"XXW1XX"`: a KeyError),
# a positional argument dropped or set to None (`np.where(x > 0, dout)`, `np.exp(None)`: a TypeError;
# the one positional argument whose loss is a quiet bug, `seed`, has an operator of its own).
LEFT_OUT = {"assignment", "string"}
OPERATORS = tuple((kind, _mutmut_name(fn), fn) for kind, fn in mutation_operators
                  if _mutmut_name(fn) not in LEFT_OUT | {"arg_removal"}) + (
    (cst.Call, "arg_removal", _keyword_argument),
    (cst.Call, "seed_dropped", _seed_dropped),
    (cst.SimpleStatementLine, "stmt_deletion", _stmt_deletion),
    (cst.Return, "return_none", _return_none),
)


def solution_lines(source):
    """The 1-based numbers of the lines between `# BEGIN SOLUTION` and `# END SOLUTION`."""
    lines, inside = set(), False
    for number, text in enumerate(source.splitlines(), 1):
        if "# BEGIN SOLUTION" in text:
            inside = True
        elif "# END SOLUTION" in text:
            inside = False
        elif inside:
            lines.add(number)
    return lines


class _Collector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, allowed):
        super().__init__()
        self.allowed = allowed
        self.functions = []       # the enclosing function definitions, outermost first
        self.found = []           # (function name, operator, node, mutated node, start line, end line)

    def visit_FunctionDef(self, node):
        self.functions.append(node)

    def leave_FunctionDef(self, original_node):
        self.functions.pop()

    def on_visit(self, node):
        super().on_visit(node)
        if not self.functions:
            return True
        pos = self.get_metadata(PositionProvider, node, None)
        if pos is None or not set(range(pos.start.line, pos.end.line + 1)) <= self.allowed:
            return True
        for kind, name, operator in OPERATORS:
            if isinstance(node, kind):
                for mutated in operator(node):
                    self.found.append((self.functions[0], name, node, mutated, pos.start.line, pos.end.line))
        return True


def _digest(*texts):
    return hashlib.sha1("\x00".join(texts).encode("utf-8")).hexdigest()[:8]


def mutants_of(part, source=None):
    """Every generated mutant of solutions/<part>.py (or of `source`), in the order of the file.

    Args:
        part: a part name of grader/parts.py.
        source: the module's text (default: solutions/<part>.py).

    Returns:
        list of Mutant, ids unique.
    """
    source = source if source is not None else (ROOT / "solutions" / f"{part}.py").read_text(encoding="utf-8")
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    collector = _Collector(solution_lines(source))
    wrapper.visit(collector)
    original = source.splitlines()
    out, seen_code, seen_ids = [], {source}, set()
    texts = {}                          # each function's text, which occurs once in the module
    for function, operator, node, mutated, first, last in collector.found:
        if function not in texts:
            texts[function] = module.code_for_node(function)
        old_fn = texts[function]
        new_fn = module.code_for_node(function.deep_replace(node, mutated))
        code = source.replace(old_fn, new_fn, 1)
        if code in seen_code:           # the same module as the reference or as another mutant
            continue
        try:
            compile(code, f"{part}.py", "exec")
        except SyntaxError:
            continue
        seen_code.add(code)
        new_lines = code.splitlines()
        shift = len(new_lines) - len(original)
        before = "\n".join(line.strip() for line in original[first - 1:last])
        after = "\n".join(line.strip() for line in new_lines[first - 1:last + shift])
        name = function.name.value
        base = f"{part}/{name}/{operator}/{_digest(before, after)}"
        ident, k = base, 2
        while ident in seen_ids:         # the same line, mutated the same way, twice in one function
            ident, k = f"{base}.{k}", k + 1
        seen_ids.add(ident)
        bug = Bug(part, "gen_" + ident.replace("/", "__").replace(".", "_"),
                  f"generated ({operator}) in {name}, line {first}: {before!r} -> {after!r}",
                  ((old_fn.strip("\n"), new_fn.strip("\n")),), extra={"generated": ident})
        out.append(Mutant(ident, part, name, operator, first, before, after, bug))
    return out


def all_mutants(parts=NAMES):
    """{part: [Mutant, ...]} for the given parts (default: every part, the warm-up included)."""
    return {part: mutants_of(part) for part in parts}
