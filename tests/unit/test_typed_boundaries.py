"""No AWS client or boto3 session is typed ``Any`` in the code mypy checks (issue 33 item 5): a
parameter, attribute or factory of one carries boto3's stub type (DynamoDBClient, S3Client, ...,
imported under TYPE_CHECKING), so mypy checks every call at the AWS boundary."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("chalicelib", "backfill", "localdev")
# The names the code gives clients and sessions.
CLIENT_NAMES = {"dynamodb", "streams", "s3", "sqs", "sns", "iam", "cloudwatch", "lambda_client", "client",
                "session", "_session", "probe"}


def _is_client_name(name: str) -> bool:
    return name in CLIENT_NAMES or name.endswith("_client")


def _makes_client(function: str) -> bool:
    return _is_client_name(function.removeprefix("_")) or function.endswith("session") or function == "lambda_at"


def _mentions_any(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    text = ast.unparse(annotation)
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        text = annotation.value
    return any(part.strip() == "Any" for part in text.replace("|", ",").replace("[", ",").replace("]", ",").split(","))


def any_clients(root: Path) -> list[str]:
    """``file:line name`` of each client or session parameter, attribute or factory typed Any."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            where = path.relative_to(root)
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    arguments = node.args
                    for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                        if _is_client_name(arg.arg) and _mentions_any(arg.annotation):
                            found.append(f"{where}:{arg.lineno} parameter {arg.arg}")
                    if _makes_client(node.name) and _mentions_any(node.returns):
                        found.append(f"{where}:{node.lineno} factory {node.name}")
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, (ast.Name, ast.Attribute)):
                    name = node.target.id if isinstance(node.target, ast.Name) else node.target.attr
                    if _is_client_name(name) and _mentions_any(node.annotation):
                        found.append(f"{where}:{node.lineno} attribute {name}")
    return found


def test_finds_each_kind_of_any_client(tmp_path: Path) -> None:
    (tmp_path / "backfill").mkdir()
    (tmp_path / "backfill" / "x.py").write_text(
        "from typing import Any\n"
        "def scan(dynamodb: Any, table: str) -> None: ...\n"
        "def put(*, lambda_client: 'Any | None' = None) -> None: ...\n"
        "def client(service: str) -> Any: ...\n"
        "class Holder:\n"
        "    s3: Any\n"
        "def fine(dynamodb: 'DynamoDBClient', value: Any) -> Any: ...\n")
    assert any_clients(tmp_path) == [
        "backfill/x.py:2 parameter dynamodb",
        "backfill/x.py:3 parameter lambda_client",
        "backfill/x.py:4 factory client",
        "backfill/x.py:6 attribute s3",
    ]


def test_no_client_is_typed_any() -> None:
    assert any_clients(ROOT) == []
