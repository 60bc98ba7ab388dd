"""Checks that infra/template.yaml is in step with the code, where cfn-lint and checkov cannot see.

- every crate in functions/ (but the local-only `sevtool`) is a function with the artefact
  `make package` builds, and every function in the template is a crate;
- every route the Rust code serves reaches, through the HTTP API, the function that serves it;
- every !Ref, !GetAtt and ${...} names a parameter, resource or pseudo parameter (cfn-lint does not
  look inside SAM functions' Events and Policies);
- the table is shaped as DynamoStore::create_table makes it, PITR and SSE on;
- the task queue dead-letters after sev::wiring::MAX_RECEIVES receives, its visibility timeout is
  at least 6 x the timeout of the function it feeds, and that function reports item failures;
- every function gets its settings (table, queue, secret ARN) and no secret through its environment;
- the outbox sweep schedule invokes a function that understands it.

`python tests/infra_check.py` checks the real template, then proves each check can fail by
running it on a broken copy. The last line is `N passed, N failed`; the exit status is 1 on any failure.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"

# Crates in functions/ that are not Lambda functions, and why.
NOT_LAMBDA = {"sevtool": "the local server: every route and consumer in one process, on the embedded store"}

SERVERLESS_FUNCTION = "AWS::Serverless::Function"


def artefact(crate: str) -> str:
    """The CodeUri of a crate's function: where `make package` (infra/package.sh) leaves its zip."""
    return f"../target/lambda/{crate}/bootstrap.zip"


# ------------------------------------------------------------------------------------------ reading


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags, turned into their long form."""


def _construct_tag(loader: CfnLoader, suffix: str, node: yaml.Node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE) -> dict:
    return yaml.load(path.read_text(), Loader=CfnLoader)


def strip_tests(text: str) -> str:
    """Rust source without its unit-test module, which by convention ends the file."""
    return text.split("#[cfg(test)]", 1)[0]


class Code:
    """What the checks need to know about the Rust code."""

    def __init__(self, root: Path = ROOT):
        self.root = root
        self.crates = sorted(p.parent.name for p in (root / "functions").glob("*/Cargo.toml"))
        self.function_sources = {
            crate: "\n".join(p.read_text() for p in sorted((root / "functions" / crate / "src").rglob("*.rs")))
            for crate in self.crates
        }
        self.extra_routes: list[Route] = []  # for the mutations below
        self.dynamo = (root / "shared/src/store/dynamo.rs").read_text()
        self.wiring = (root / "shared/src/wiring.rs").read_text()

    def lambda_crates(self) -> list[str]:
        return [c for c in self.crates if c not in NOT_LAMBDA]

    def routes(self) -> list[Route]:
        found = []
        files = sorted((self.root / "shared/src").rglob("*.rs")) + sorted((self.root / "functions").glob("*/src/**/*.rs"))
        for path in files:
            rel = path.relative_to(self.root)
            if rel.parts[0] == "functions" and rel.parts[1] in NOT_LAMBDA:
                continue  # routes only the local server has (e.g. its "Slack is off" answers)
            text = strip_tests(path.read_text())
            if re.search(r"\.nest(_service)?\s*\(", text):
                raise SystemExit(
                    f"{rel} nests a router: teach tests/infra_check.py to prefix its routes before relying on it"
                )
            for m in re.finditer(r"\.route(?:_service)?\s*\(", text):
                args = balanced_args(text, m.end())
                path_match = re.match(r'\s*"([^"]+)"\s*,', args)
                if not path_match:
                    raise SystemExit(f"{rel}: a route whose path is not a string literal: .route({args[:60]}...")
                methods = {
                    name.upper()
                    for name in re.findall(r"\b(get|post|put|patch|delete|head|options|trace|any)(?:_service)?\s*\(", args)
                }
                if not methods or "ANY" in methods:
                    methods = {"ANY"}
                found.append(Route(path_match.group(1), methods, str(rel), self.servers(rel)))
        return found + self.extra_routes

    def servers(self, rel: Path) -> set[str]:
        """The Lambda functions that serve routes defined in `rel`: the crate itself for a file in
        functions/, else every function crate that uses the shared module the file belongs to,
        directly or through another shared module that uses it (`http` merges `api`'s and `web`'s routes)."""
        parts = rel.parts
        if parts[0] == "functions":
            return {parts[1]} - NOT_LAMBDA.keys()
        return self.module_servers(Path(parts[2]).stem, set())

    def module_servers(self, module: str, seen: set[str]) -> set[str]:
        seen.add(module)
        found = {
            crate
            for crate, source in self.function_sources.items()
            if crate not in NOT_LAMBDA and re.search(rf"\bsev::{module}\b", source)
        }
        for user, source in self.shared_sources().items():
            if user not in seen and re.search(rf"\bcrate::{module}\b", source):
                found |= self.module_servers(user, seen)
        return found

    def shared_sources(self) -> dict[str, str]:
        """The source of each top-level module of the shared crate, tests left out."""
        sources: dict[str, str] = {}
        src = self.root / "shared" / "src"
        for path in src.rglob("*.rs"):
            module = path.relative_to(src).parts[0].removesuffix(".rs")
            sources[module] = sources.get(module, "") + strip_tests(path.read_text())
        return sources


def balanced_args(text: str, start: int) -> str:
    """The text from `start` (just after an opening parenthesis) to its closing one."""
    depth = 1
    i = start
    while i < len(text) and depth:
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
        i += 1
    return text[start : i - 1]


class Route:
    def __init__(self, path: str, methods: set[str], file: str, servers: set[str]):
        self.path, self.methods, self.file, self.servers = path, methods, file, servers

    def sample(self) -> str:
        """A concrete request path this route answers."""
        path = re.sub(r"\{\*[^}]+\}", "x1/x2", self.path)
        return re.sub(r"\{[^}]+\}", "x1", path)


# ------------------------------------------------------------------------------------------ helpers


def resources(t: dict, type_: str | None = None) -> dict:
    return {k: v for k, v in (t.get("Resources") or {}).items() if type_ is None or v.get("Type") == type_}


def functions(t: dict) -> dict:
    return resources(t, SERVERLESS_FUNCTION)


def fn_property(t: dict, fn: dict, name: str):
    """A function property, falling back to Globals as SAM does."""
    props = fn.get("Properties") or {}
    if name in props:
        return props[name]
    return ((t.get("Globals") or {}).get("Function") or {}).get(name)


def events(fn: dict, type_: str) -> dict:
    return {k: e for k, e in ((fn.get("Properties") or {}).get("Events") or {}).items() if e.get("Type") == type_}


def ref_target(value) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def apigw_regex(path: str) -> re.Pattern:
    if path == "/":
        return re.compile("/")
    parts = []
    for seg in path.strip("/").split("/"):
        if re.fullmatch(r"\{[^}]+\+\}", seg):
            parts.append(".+")
        elif re.fullmatch(r"\{[^}]+\}", seg):
            parts.append("[^/]+")
        else:
            parts.append(re.escape(seg))
    return re.compile("/" + "/".join(parts))


def specificity(path: str | None, method: str) -> tuple:
    """Sort key: lower is more specific, as API Gateway picks routes (literal segments beat path
    variables, which beat greedy ones; a method beats ANY; $default comes last)."""
    if path is None:
        return (1, 0, 0, 0, 0)
    segs = [s for s in path.strip("/").split("/") if s]
    greedy = any(s.endswith("+}") for s in segs)
    literals = sum(1 for s in segs if not s.startswith("{"))
    return (0, int(greedy), -literals, -len(segs), int(method == "ANY"))


def int_of(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------------ checks
# Each takes the template and the code and returns a list of problems; empty means it passed.


def check_function_crates(t: dict, code: Code) -> list[str]:
    problems = []
    by_uri: dict[str, list[str]] = {}
    for name, fn in functions(t).items():
        by_uri.setdefault(str(fn_property(t, fn, "CodeUri")), []).append(name)
        for prop, want in (("Runtime", "provided.al2023"), ("Handler", "bootstrap")):
            if fn_property(t, fn, prop) != want:
                problems.append(f"{name}: {prop} must be {want!r}, is {fn_property(t, fn, prop)!r}")
    for crate in code.lambda_crates():
        names = by_uri.pop(artefact(crate), [])
        if len(names) != 1:
            problems.append(
                f"crate functions/{crate} needs exactly one {SERVERLESS_FUNCTION} with CodeUri "
                f"{artefact(crate)}; found {names or 'none'} (or add it to NOT_LAMBDA here, with the reason)"
            )
    for crate in NOT_LAMBDA:
        by_uri.pop(artefact(crate), None) and problems.append(f"{crate} is not a Lambda function: {NOT_LAMBDA[crate]}")
    for uri, names in by_uri.items():
        problems.append(f"{names}: CodeUri {uri} is not the artefact of any crate in functions/")
    return problems


def check_routes(t: dict, code: Code) -> list[str]:
    problems = []
    routed = []  # (path or None for $default, method, function)
    for name, fn in functions(t).items():
        for ev_name, ev in events(fn, "HttpApi").items():
            props = ev.get("Properties") or {}
            path, method = props.get("Path"), str(props.get("Method", "ANY")).upper()
            if path is None and "Method" not in props:
                routed.append((None, "ANY", name))
            elif path is None:
                problems.append(f"{name}.{ev_name}: an HttpApi event with a Method needs a Path")
            else:
                routed.append((path, "ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method, name))
    seen = {}
    for path, method, name in routed:
        if (path, method) in seen:
            problems.append(f"route {method} {path} is claimed by both {seen[(path, method)]} and {name}")
        seen[(path, method)] = name
    crate_of = {name: crate for crate in code.crates for name, fn in functions(t).items() if fn_property(t, fn, "CodeUri") == artefact(crate)}
    routes = code.routes()
    if not routes:
        problems.append("found no .route(...) in the code: the route scan is broken")
    for route in routes:
        if not route.servers:
            problems.append(f"{route.path} ({route.file}) is served by no Lambda function")
            continue
        for method in sorted(route.methods):
            candidates = [
                (specificity(path, m), path, m, name)
                for path, m, name in routed
                if (path is None or apigw_regex(path).fullmatch(route.sample())) and (m == "ANY" or method == "ANY" or m == method)
            ]
            if not candidates:
                problems.append(f"{method} {route.path} ({route.file}) matches no HttpApi event")
                continue
            _, path, m, name = min(candidates, key=lambda c: c[0])
            if crate_of.get(name) not in route.servers:
                problems.append(
                    f"{method} {route.path} ({route.file}) is routed by {m} {path or '$default'} to {name}, "
                    f"but it is served by {sorted(route.servers)}"
                )
    return problems


PSEUDO = {"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}

# Attributes of the resource types this template uses; others are not checked.
ATTRIBUTES = {
    "AWS::SQS::Queue": {"Arn", "QueueName", "QueueUrl"},
    "AWS::DynamoDB::Table": {"Arn", "StreamArn"},
    "AWS::IAM::Role": {"Arn", "RoleId"},
    "AWS::Logs::LogGroup": {"Arn"},
    "AWS::Scheduler::ScheduleGroup": {"Arn", "CreationDate", "LastModificationDate", "State"},
    "AWS::SecretsManager::Secret": {"Id"},
    SERVERLESS_FUNCTION: {"Arn"},
    "AWS::Serverless::HttpApi": {"ApiEndpoint", "ApiId"},
}


def check_references(t: dict, code: Code) -> list[str]:
    problems = []
    res = resources(t)
    names = set(res) | set(t.get("Parameters") or {}) | PSEUDO

    def getatt(where: str, target: str, attribute: str):
        if target not in res:
            problems.append(f"{where}: !GetAtt {target}.{attribute}: no resource {target}")
            return
        allowed = ATTRIBUTES.get(res[target].get("Type"))
        if allowed is not None and attribute not in allowed:
            problems.append(f"{where}: !GetAtt {target}.{attribute}: {res[target]['Type']} has no attribute {attribute}")

    def walk(node, where: str, local: frozenset = frozenset()):
        if isinstance(node, dict):
            if "Ref" in node and len(node) == 1:
                if node["Ref"] not in names | local:
                    problems.append(f"{where}: !Ref {node['Ref']}: no such parameter or resource")
                return
            if "Fn::GetAtt" in node and len(node) == 1:
                target, attribute = (node["Fn::GetAtt"] + [""])[:2]
                getatt(where, target, attribute)
                return
            if "Fn::Sub" in node and len(node) == 1:
                sub = node["Fn::Sub"]
                text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
                walk(variables, where, local)
                for var in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    if var in variables:
                        continue
                    if "." in var:
                        getatt(where, *var.split(".", 1))
                    elif var not in names:
                        problems.append(f"{where}: ${{{var}}}: no such parameter or resource")
                return
            for k, v in node.items():
                walk(v, f"{where}.{k}", local)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]", local)

    for section in ("Globals", "Resources", "Outputs", "Conditions"):
        walk(t.get(section) or {}, section)
    return problems


def dynamo_const(code: Code, name: str) -> str:
    m = re.search(rf'const {name}: &str = "([^"]+)";', code.dynamo)
    if not m:
        raise SystemExit(f"shared/src/store/dynamo.rs has no `const {name}: &str`; update tests/infra_check.py")
    return m.group(1)


def create_table_shape(code: Code) -> dict:
    """What DynamoStore::create_table creates, read from its source."""
    body = code.dynamo.split("pub async fn create_table", 1)[1].split("\n    }\n", 1)[0]
    attrs = re.search(r"let attributes = \[([^\]]+)\]", body)
    key = re.search(r"key_schema\((\w+),\s*(\w+)\)", body)
    indexes = re.findall(r"global_index\((\w+),\s*(\w+),\s*(\w+)\)", body)
    types = set(re.findall(r"ScalarAttributeType::(\w+)", body))
    billing = re.search(r"BillingMode::(\w+)", body)
    projection = set(re.findall(r"ProjectionType::(\w+)", code.dynamo))
    if not (attrs and key and indexes and billing and len(types) == 1 and len(projection) == 1):
        raise SystemExit("cannot read DynamoStore::create_table any more; update tests/infra_check.py")
    c = lambda n: dynamo_const(code, n)  # noqa: E731
    return {
        "attributes": {c(n.strip()): next(iter(types)).upper() for n in attrs.group(1).split(",") if n.strip()},
        "key": [(c(key.group(1)), "HASH"), (c(key.group(2)), "RANGE")],
        "indexes": {c(i): [(c(h), "HASH"), (c(r), "RANGE")] for i, h, r in indexes},
        "projection": re.sub(r"(?<!^)(?=[A-Z])", "_", next(iter(projection))).upper(),
        "billing": re.sub(r"(?<!^)(?=[A-Z])", "_", billing.group(1)).upper(),
        "ttl": c("TTL"),
    }


def check_table(t: dict, code: Code) -> list[str]:
    tables = resources(t, "AWS::DynamoDB::Table")
    if len(tables) != 1:
        return [f"expected one AWS::DynamoDB::Table, found {sorted(tables)}"]
    name, table = next(iter(tables.items()))
    p = table.get("Properties") or {}
    want = create_table_shape(code)
    problems = []

    def differ(what, got, expected):
        if got != expected:
            problems.append(f"{name} {what}: template has {got}, DynamoStore::create_table makes {expected}")

    differ("AttributeDefinitions", {a["AttributeName"]: a["AttributeType"] for a in p.get("AttributeDefinitions", [])}, want["attributes"])
    differ("KeySchema", [(k["AttributeName"], k["KeyType"]) for k in p.get("KeySchema", [])], want["key"])
    differ(
        "GlobalSecondaryIndexes",
        {g["IndexName"]: [(k["AttributeName"], k["KeyType"]) for k in g.get("KeySchema", [])] for g in p.get("GlobalSecondaryIndexes", [])},
        want["indexes"],
    )
    for g in p.get("GlobalSecondaryIndexes", []):
        differ(f"{g['IndexName']} projection", (g.get("Projection") or {}).get("ProjectionType"), want["projection"])
    differ("BillingMode", p.get("BillingMode"), want["billing"])
    ttl = p.get("TimeToLiveSpecification") or {}
    differ("TTL", (ttl.get("AttributeName"), ttl.get("Enabled")), (want["ttl"], True))
    if (p.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled") is not True:
        problems.append(f"{name}: point-in-time recovery must be on")
    if (p.get("SSESpecification") or {}).get("SSEEnabled") is not True:
        problems.append(f"{name}: SSESpecification.SSEEnabled must be true")
    return problems


def check_task_queue(t: dict, code: Code) -> list[str]:
    m = re.search(r"pub const MAX_RECEIVES: u32 = (\d+);", code.wiring)
    if not m:
        raise SystemExit("shared/src/wiring.rs has no `pub const MAX_RECEIVES: u32`; update tests/infra_check.py")
    max_receives = int(m.group(1))
    queues = resources(t, "AWS::SQS::Queue")
    problems = []
    redriven = {name: q for name, q in queues.items() if "RedrivePolicy" in (q.get("Properties") or {})}
    if not redriven:
        problems.append("no SQS queue has a RedrivePolicy: tasks that keep failing would never be dead-lettered")
    for name, q in redriven.items():
        policy = q["Properties"]["RedrivePolicy"]
        if int_of(policy.get("maxReceiveCount")) != max_receives:
            problems.append(f"{name}: maxReceiveCount is {policy.get('maxReceiveCount')}, sev::wiring::MAX_RECEIVES is {max_receives}")
        if ref_target(policy.get("deadLetterTargetArn")) not in queues:
            problems.append(f"{name}: deadLetterTargetArn must be !GetAtt <a queue in this template>.Arn")
    for fname, fn in functions(t).items():
        for ev_name, ev in events(fn, "SQS").items():
            props = ev.get("Properties") or {}
            if "ReportBatchItemFailures" not in (props.get("FunctionResponseTypes") or []):
                problems.append(f"{fname}.{ev_name}: FunctionResponseTypes must include ReportBatchItemFailures (the worker returns SqsBatchResponse)")
            queue = queues.get(ref_target(props.get("Queue")))
            if queue is None:
                problems.append(f"{fname}.{ev_name}: Queue must be !GetAtt <a queue in this template>.Arn")
                continue
            timeout = int_of(fn_property(t, fn, "Timeout")) or 3
            visibility = int_of((queue.get("Properties") or {}).get("VisibilityTimeout")) or 30
            if visibility < 6 * timeout:
                problems.append(f"{fname}.{ev_name}: queue VisibilityTimeout {visibility} s is under 6 x the function timeout ({timeout} s)")
    return problems


# Names that must never be set in a function's environment: they are read from the secret.
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY|ROUTING_KEY|_KEY)$")


def check_environment(t: dict, code: Code) -> list[str]:
    problems = []
    want = {
        "SEVTOOL_TABLE": "AWS::DynamoDB::Table",
        "SEVTOOL_TASK_QUEUE_URL": "AWS::SQS::Queue",
        "SEVTOOL_SECRETS_ARN": "AWS::SecretsManager::Secret",
    }
    res = resources(t)
    global_env = (((t.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get("Variables") or {}
    for name, fn in functions(t).items():
        env = {**global_env, **((((fn.get("Properties") or {}).get("Environment") or {}).get("Variables")) or {})}
        for var, type_ in want.items():
            target = env.get(var, {}).get("Ref") if isinstance(env.get(var), dict) else None
            if (res.get(target) or {}).get("Type") != type_:
                problems.append(f"{name}: {var} must be !Ref <the {type_}>")
        for var in env:
            if SECRET_NAME.search(var):
                problems.append(f"{name}: {var} looks like a secret; put it in the Secrets Manager secret, not the environment")
    return problems


def check_outbox_sweep(t: dict, code: Code) -> list[str]:
    sweeps = []
    for name, fn in functions(t).items():
        for ev_name, ev in events(fn, "ScheduleV2").items():
            props = ev.get("Properties") or {}
            try:
                payload = json.loads(props.get("Input") or "null")
            except json.JSONDecodeError:
                payload = None
            if payload == {"sweep": "outbox"}:
                sweeps.append((name, ev_name, props))
    if len(sweeps) != 1:
        return [f'expected one ScheduleV2 event with Input {{"sweep": "outbox"}}, found {len(sweeps)}']
    name, ev_name, props = sweeps[0]
    problems = []
    crate = next((c for c in code.crates if fn_property(t, functions(t)[name], "CodeUri") == artefact(c)), None)
    if crate is None or not re.search(r'"sweep"', strip_tests(code.function_sources[crate])):
        problems.append(f"{name}.{ev_name}: the sweep goes to a function whose crate does not handle {{\"sweep\": ...}}")
    if (resources(t).get(ref_target(props.get("GroupName"))) or {}).get("Type") != "AWS::Scheduler::ScheduleGroup":
        problems.append(f"{name}.{ev_name}: GroupName must be !Ref the AWS::Scheduler::ScheduleGroup")
    if (resources(t).get(ref_target(props.get("RoleArn"))) or {}).get("Type") != "AWS::IAM::Role":
        problems.append(f"{name}.{ev_name}: RoleArn must be !GetAtt <the scheduler role>.Arn")
    if not re.fullmatch(r"rate\(\d+ minutes?\)", str(props.get("ScheduleExpression"))):
        problems.append(f"{name}.{ev_name}: the sweep should recur every few minutes, is {props.get('ScheduleExpression')!r}")
    return problems


CHECKS = [
    ("every function crate is deployed with its artefact", check_function_crates),
    ("every route the code serves is routed to its function", check_routes),
    ("every !Ref, !GetAtt and ${...} names something that exists", check_references),
    ("the table is shaped as DynamoStore::create_table makes it", check_table),
    ("the task queue: MAX_RECEIVES, dead-letter queue, visibility, item failures", check_task_queue),
    ("each function's environment: settings and no secrets", check_environment),
    ("the outbox sweep schedule reaches a function that handles it", check_outbox_sweep),
]


# ------------------------------------------------------------------------------------------ mutations
# Each breaks a copy of the real template, or of what was read from the code, in one way the
# named check must catch.


def _fn(t, crate):
    return next(fn for fn in functions(t).values() if fn["Properties"].get("CodeUri") == artefact(crate))


def _drop_function(crate):
    def mutate(t):
        del t["Resources"][next(n for n, fn in functions(t).items() if fn["Properties"].get("CodeUri") == artefact(crate))]
    return mutate


def _set_events(crate, type_, change):
    def mutate(t):
        for ev in events(_fn(t, crate), type_).values():
            change(ev["Properties"])
    return mutate


def _table(change):
    def mutate(t):
        change(next(iter(resources(t, "AWS::DynamoDB::Table").values()))["Properties"])
    return mutate


def _queue_with_redrive(change):
    def mutate(t):
        change(next(q for q in resources(t, "AWS::SQS::Queue").values() if "RedrivePolicy" in q["Properties"])["Properties"])
    return mutate


def _new_crate(crate):
    def mutate(t, code):
        code.crates.append(crate)
        code.function_sources[crate] = "use sev::http::router;"
    return mutate


def _route_in(crate, path):
    def mutate(t, code):
        code.crates.append(crate)
        code.function_sources[crate] = ""
        t["Resources"][f"{crate.title()}Function"] = {"Type": SERVERLESS_FUNCTION, "Properties": {"CodeUri": artefact(crate)}}
        code.extra_routes.append(Route(path, {"POST"}, f"functions/{crate}/src/main.rs", {crate}))
    return mutate


CODE_MUTATIONS = [
    ("a new function crate not in the template", check_function_crates, _new_crate("slack")),
    ("a new function's route left to the intake's catch-all", check_routes, _route_in("slack", "/slack/events")),
]

MUTATIONS = [
    ("a function crate missing from the template", check_function_crates, _drop_function("worker")),
    ("a wrong CodeUri", check_function_crates, lambda t: _fn(t, "intake")["Properties"].update(CodeUri="../target/lambda/intake")),
    ("the local-only sevtool deployed", check_function_crates, lambda t: t["Resources"].update(Sevtool={"Type": SERVERLESS_FUNCTION, "Properties": {"CodeUri": artefact("sevtool")}})),
    ("the intake's catch-all route missing", check_routes, _set_events("intake", "HttpApi", lambda p: p.update(Path="/nothing/{proxy+}"))),
    ("/api routed to another function", check_routes, lambda t: _fn(t, "worker")["Properties"]["Events"].update(Api={"Type": "HttpApi", "Properties": {"Path": "/api/{proxy+}", "Method": "ANY"}})),
    ("a dangling !GetAtt in Events", check_references, _set_events("worker", "SQS", lambda p: p.update(Queue={"Fn::GetAtt": ["TaskQueu", "Arn"]}))),
    ("a dangling !Ref in Environment", check_references, lambda t: _fn(t, "intake")["Properties"]["Environment"]["Variables"].update(SEVTOOL_TABLE={"Ref": "Tabel"})),
    ("a dangling ${...} in a policy", check_references, lambda t: t["Resources"]["IntakeRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append({"Resource": {"Fn::Sub": "${Tabel.Arn}/index/*"}})),
    ("an attribute the resource lacks", check_references, lambda t: _fn(t, "intake")["Properties"].update(Role={"Fn::GetAtt": ["IntakeRole", "Name"]})),
    ("a GSI missing", check_table, _table(lambda p: p["GlobalSecondaryIndexes"].pop())),
    ("a key attribute renamed", check_table, _table(lambda p: p["KeySchema"][1].update(AttributeName="sort"))),
    ("TTL on another attribute", check_table, _table(lambda p: p["TimeToLiveSpecification"].update(AttributeName="expires"))),
    ("PITR off", check_table, _table(lambda p: p.pop("PointInTimeRecoverySpecification"))),
    ("maxReceiveCount drifted from MAX_RECEIVES", check_task_queue, _queue_with_redrive(lambda p: p["RedrivePolicy"].update(maxReceiveCount=3))),
    ("visibility timeout under 6 x the worker timeout", check_task_queue, _queue_with_redrive(lambda p: p.update(VisibilityTimeout=30))),
    ("ReportBatchItemFailures missing", check_task_queue, _set_events("worker", "SQS", lambda p: p.pop("FunctionResponseTypes"))),
    ("a token in plain environment", check_environment, lambda t: _fn(t, "worker")["Properties"]["Environment"]["Variables"].update(SLACK_BOT_TOKEN="xoxb")),
    ("the secret's ARN missing", check_environment, lambda t: _fn(t, "worker")["Properties"]["Environment"]["Variables"].pop("SEVTOOL_SECRETS_ARN")),
    ("the sweep payload changed", check_outbox_sweep, _set_events("worker", "ScheduleV2", lambda p: p.update(Input='{"sweep": "all"}'))),
]


def main() -> int:
    code = Code()
    template = load_template()
    passed = failed = 0
    for title, check in CHECKS:
        problems = check(template, code)
        if problems:
            failed += 1
            print(f"FAIL {title}")
            for p in problems:
                print(f"     - {p}")
        else:
            passed += 1
            print(f"ok   {title}")
    # Mutations need the real template to pass first; each then must be caught by its check.
    mutations = [(title, check, lambda t, c, m=m: m(t)) for title, check, m in MUTATIONS] + CODE_MUTATIONS
    for title, check, mutate in mutations:
        broken, broken_code = copy.deepcopy(template), copy.deepcopy(code)
        try:
            mutate(broken, broken_code)
            caught = bool(check(broken, broken_code))
        except StopIteration:
            caught, title = False, f"{title} (the mutation no longer applies to the template: update it)"
        if caught:
            passed += 1
            print(f"ok   catches {title}")
        else:
            failed += 1
            print(f"FAIL does not catch {title}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
