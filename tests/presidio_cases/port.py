"""Port Presidio's own recognizer test cases into cases.jsonl (run by hand, not by pytest).

Presidio's tests (presidio-analyzer/tests/test_*_recognizer.py) hold their cases as literal
`pytest.mark.parametrize` tables. This script reads those tables with `ast` (the test modules
are never imported: they need Presidio's own `tests` package), evaluates each row, and writes
one JSON line per case: the entity, the text, the number of results Presidio's test expects,
their positions (when the test gives them) and score ranges. `tests/test_presidio_cases.py`
runs every case through the workbench's `TextEngine`.

Only the entities the workbench detects are ported: emails, phones, IP addresses, payment
cards, IBANs and the government IDs of `dsar.text.detectors.GOVERNMENT_IDS` (no URLs).

    git clone https://github.com/microsoft/presidio /tmp/presidio   # any checkout
    .venv/bin/python tests/presidio_cases/port.py /tmp/presidio --commit "$(git -C /tmp/presidio rev-parse HEAD)"
    .venv/bin/python tests/presidio_cases/port.py --score    # how many pass, engine and Presidio

`--score` also runs each case through the installed Presidio recognizer the way Presidio's
test does (its default settings, the phone test's leniency), to put the two counts side by
side.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.jsonl"

# Presidio test file -> (entity, the recognizer class the test builds)
FILES = {
    "test_email_recognizer.py": ("EMAIL_ADDRESS", "EmailRecognizer"),
    "test_phone_recognizer.py": ("PHONE_NUMBER", "PhoneRecognizer"),
    "test_ip_recognizer.py": ("IP_ADDRESS", "IpRecognizer"),
    "test_credit_card_recognizer.py": ("CREDIT_CARD", "CreditCardRecognizer"),
    "test_iban_recognizer.py": ("IBAN_CODE", "IbanRecognizer"),
    "test_us_ssn_recognizer.py": ("US_SSN", "UsSsnRecognizer"),
    "test_us_itin_recognizer.py": ("US_ITIN", "UsItinRecognizer"),
    "test_uk_nhs_recognizer.py": ("UK_NHS", "NhsRecognizer"),
    "test_uk_nino_recognizer.py": ("UK_NINO", "UkNinoRecognizer"),
    "test_es_nif_recognizer.py": ("ES_NIF", "EsNifRecognizer"),
    "test_es_nie_recognizer.py": ("ES_NIE", "EsNieRecognizer"),
    "test_it_fiscal_code_recognizer.py": ("IT_FISCAL_CODE", "ItFiscalCodeRecognizer"),
    "test_pl_pesel_recognizer.py": ("PL_PESEL", "PlPeselRecognizer"),
    "test_fi_personal_identity_code_recognizer.py": (
        "FI_PERSONAL_IDENTITY_CODE",
        "FiPersonalIdentityCodeRecognizer",
    ),
}


def _helpers(tree: ast.Module) -> dict[str, Any]:
    """The module's plain helper functions (update_iban_checksum), for rows that call them."""
    from presidio_analyzer import predefined_recognizers

    namespace: dict[str, Any] = {
        name: getattr(predefined_recognizers, name) for name in dir(predefined_recognizers)
    }
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef)
            and not node.decorator_list
            and not node.name.startswith("test_")
        ):
            exec(compile(ast.Module([node], []), "<helper>", "exec"), namespace)
    return namespace


def _rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    namespace = _helpers(tree)
    out: list[tuple[str, dict[str, Any]]] = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if not (isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "parametrize"):
                continue
            names = [n.strip() for n in ast.literal_eval(deco.args[0]).split(",")]
            table = deco.args[1]
            assert isinstance(table, ast.List | ast.Tuple)
            for i, row in enumerate(table.elts):
                # Presidio's own literal tables, evaluated in a script run by hand
                values = eval(compile(ast.Expression(row), "<row>", "eval"), namespace)
                out.append(
                    (f"{path.stem}::{node.name}[{i}]", dict(zip(names, values, strict=True)))
                )
    return out


def _case(case_id: str, entity: str, row: dict[str, Any]) -> dict[str, Any]:
    """One row in one shape: text, expected count, positions (or None), score ranges."""
    text = str(row.get("text", row.get("iban", row.get("pesel"))))
    if "expected" in row:  # the PESEL checksum table: (pesel, valid)
        count = int(row["expected"])
        positions: list[list[int]] | None = [[0, len(text)]] if count else []
    else:
        count = row["expected_len"]
        given = row.get("expected_positions", row.get("expected_res"))
        positions = [list(p) for p in given] if given else ([] if count == 0 else None)
    scores = row.get("expected_score_ranges") or row.get("expected_scores") or ()
    if "score" in row:
        scores = [row["score"]] * count
    case: dict[str, Any] = {
        "id": case_id,
        "entity": entity,
        "text": text,
        "count": count,
        "positions": positions,
        "scores": [list(s) if isinstance(s, tuple | list) else s for s in scores],
    }
    if "leniency" in row:
        case["leniency"] = row["leniency"]
    return case


def port(presidio: Path, commit: str) -> list[dict[str, Any]]:
    tests = presidio / "presidio-analyzer" / "tests"
    cases = []
    for name, (entity, _) in FILES.items():
        for case_id, row in _rows(tests / name):
            case = _case(case_id, entity, row)
            case["source"] = f"microsoft/presidio@{commit[:9]}"
            cases.append(case)
    return cases


# -- scoring -------------------------------------------------------------------------------


def presidio_passes(case: dict[str, Any]) -> bool:
    """The case run the way Presidio's own test runs it, on the installed Presidio."""
    from presidio_analyzer import predefined_recognizers as pr

    file = case["id"].split("::")[0] + ".py"
    entity, cls_name = FILES[file]
    kwargs: dict[str, Any] = {}
    if cls_name == "PhoneRecognizer":
        kwargs["supported_regions"] = (*pr.PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS, "JP", "CN")
        if "leniency" in case:
            kwargs = {"leniency": case["leniency"]}
    recognizer = getattr(pr, cls_name)(**kwargs)
    if "test_validate_result_checksum" in case["id"]:
        return bool(recognizer.validate_result(case["text"])) == bool(case["count"])
    nlp_artifacts = None
    if cls_name == "PhoneRecognizer":
        from dsar.text.nlp import build_analyzer

        nlp_artifacts = _NLP.setdefault("engine", build_analyzer()[0].nlp_engine).process_text(
            case["text"], "en"
        )
    results = recognizer.analyze(case["text"], [entity], nlp_artifacts=nlp_artifacts)
    if len(results) != case["count"]:
        return False
    if case["positions"]:
        if "ip_recognizer" in file or "ssn" in file:
            results = sorted(results, key=lambda r: (r.start, r.end))
        got = [[r.start, r.end] for r in results]
        return bool(got == case["positions"][: len(got)])
    return True


_NLP: dict[str, Any] = {}


def score() -> None:
    sys.path.insert(0, str(HERE.parent.parent))
    from tests.test_presidio_cases import engine_passes, load_cases

    cases = load_cases()
    ours = sum(engine_passes(c) for c in cases)
    theirs = sum(presidio_passes(c) for c in cases)
    print(f"{len(cases)} cases: the workbench passes {ours}, Presidio {theirs}")


def main() -> int:
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presidio", nargs="?", type=Path, help="a checkout of microsoft/presidio")
    parser.add_argument("--commit", default="unknown", help="the checkout's commit")
    parser.add_argument("--score", action="store_true", help="count the cases that pass")
    args = parser.parse_args()
    if args.presidio is not None:
        cases = port(args.presidio, args.commit)
        old = {}
        if CASES.exists():  # keep the expected differences already written down
            for line in CASES.read_text(encoding="utf-8").splitlines():
                c = json.loads(line)
                if "difference" in c:
                    old[c["id"]] = c["difference"]
        with CASES.open("w", encoding="utf-8") as f:
            for case in cases:
                if case["id"] in old:
                    case["difference"] = old[case["id"]]
                f.write(json.dumps(case, ensure_ascii=False) + "\n")
        print(f"{len(cases)} cases written to {CASES}")
    if args.score:
        score()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
