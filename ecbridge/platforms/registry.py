"""The platform registry: every known platform's spec, and the client for the implemented ones."""

from __future__ import annotations

from django.utils.module_loading import import_string

from ecbridge.platforms.base import AccountContext, Client, PlatformSpec
from ecbridge.platforms.catalog import UNIMPLEMENTED

IMPLEMENTED_PACKAGES = ("shopee", "shopify", "momo")


def _load() -> dict[str, PlatformSpec]:
    specs = {}
    for name in IMPLEMENTED_PACKAGES:
        spec = import_string(f"ecbridge.platforms.{name}.SPEC")
        specs[spec.code] = spec
    for spec in UNIMPLEMENTED:
        specs.setdefault(spec.code, spec)
    return specs


_SPECS: dict[str, PlatformSpec] | None = None


def all_specs() -> dict[str, PlatformSpec]:
    global _SPECS
    if _SPECS is None:
        _SPECS = _load()
    return _SPECS


def get_spec(code: str) -> PlatformSpec:
    try:
        return all_specs()[code]
    except KeyError:
        raise LookupError(f"Unknown platform {code!r}") from None


def implemented_specs() -> list[PlatformSpec]:
    return [s for s in all_specs().values() if s.implemented]


def platform_choices(implemented_only: bool = True) -> list[tuple[str, str]]:
    specs = implemented_specs() if implemented_only else list(all_specs().values())
    return [(s.code, str(s.name)) for s in specs]


def client_for(ctx: AccountContext, *, interactive: bool = False, http=None) -> Client:
    spec = get_spec(ctx.platform)
    if not spec.implemented:
        raise LookupError(f"Platform {ctx.platform!r} has no client yet")
    cls = import_string(spec.client_class)
    return cls(ctx, http=http, interactive=interactive)
