"""Run axe-core (from npm, installed by `make test`) inside a Playwright page."""

from pathlib import Path

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def assert_accessible(page) -> None:
    """Fail with every WCAG 2 AA violation axe finds on the page as it is now."""
    if not AXE_SCRIPT.exists():
        raise AssertionError(f"{AXE_SCRIPT} is missing: run `make node`")
    # evaluate() runs through the DevTools protocol, so our strict CSP need not be relaxed.
    page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    violations = [
        f"{item['id']} ({item['impact']}): {item['help']} — "
        + ", ".join(node["target"][0] for node in item["nodes"][:5])
        for item in result["violations"]
    ]
    assert not violations, f"axe found WCAG violations on {page.url}:\n" + "\n".join(violations)
