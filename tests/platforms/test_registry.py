"""The registry and docs/platforms.md agree; the spec drives what is offered."""

from pathlib import Path

from ecbridge.platforms.base import AuthKind
from ecbridge.platforms.registry import all_specs, implemented_specs, platform_choices

DOC = Path(__file__).resolve().parents[2] / "docs" / "platforms.md"


def test_seventeen_platforms_plus_own_website():
    assert len(all_specs()) == 18
    assert {s.code for s in implemented_specs()} == {"shopee", "shopify", "momo"}
    assert [c for c, _ in platform_choices()] == ["shopee", "shopify", "momo"]


def test_doc_lists_every_platform_with_its_status():
    text = DOC.read_text()
    for spec in all_specs().values():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{spec.code}` |")), None)
        assert row is not None, spec.code
        assert ("**yes**" in row) == spec.implemented, spec.code
        assert f"| {spec.auth.value} |" in row


def test_oauth_set_matches_the_product():
    assert {s.code for s in all_specs().values() if s.auth == AuthKind.OAUTH} == {
        "shopee",
        "shopify",
        "liteshop",
    }
