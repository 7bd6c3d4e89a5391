"""What one service publishes, given the endpoints its sources list.

Why this module exists: the :class:`~dubbomesh.dubbo.builder.CatalogBuilder` decides WHICH
services to recompute and where their endpoints are listed; this module decides WHAT a service is,
so the registry's meaning lives in one place (``shared/reference/dubbo-registry.md``):

- the service filter drops unwanted interfaces and provider applications;
- overrides (:mod:`dubbomesh.dubbo.overrides`) disable or re-weight endpoints; disabled endpoints
  (override ``disabled=true``, provider ``enabled=false``, Curator ``enabled:false``) are absent;
- an endpoint seen both at interface and at instance level (or in two registries) appears once,
  preferring the interface-level record, then the registry that sorts first;
- weight: override, else URL, else 100 (the decoders already applied the last two).

Volatile params never reach here (the decoders drop them), so a provider restart that only
changes ``timestamp``/``pid`` yields the same service version.
"""

from __future__ import annotations

from collections.abc import Iterable

from dubbomesh.dubbo.filters import ServiceFilter
from dubbomesh.dubbo.model import Endpoint, Service, ServiceId, Source
from dubbomesh.dubbo.overrides import OverrideRule, apply_rules, provider_disabled, rule_names_for
from dubbomesh.dubbo.rules import RuleBook


def _preference(ep: Endpoint) -> tuple[bool, str, str, int, tuple[tuple[str, str], ...]]:
    return (ep.source is not Source.INTERFACE, ep.registry, ep.application, ep.weight, ep.params)


class ServiceAssembler:
    """Builds :class:`Service` values under a filter and a :class:`RuleBook` it only reads.

    Call :meth:`begin` once before the builds of one snapshot (it notes which registries have
    rules at all, so endpoints of the others skip the rule lookups)."""

    def __init__(
        self,
        rules: RuleBook,
        registries: frozenset[str],
        *,
        wanted: ServiceFilter,
        apply_overrides: bool,
    ) -> None:
        self._rules = rules
        self._registries = registries
        self._wanted = wanted
        self._apply_overrides = apply_overrides
        self._ruled: set[str] = set()
        """Registries with effective override rules (recomputed by :meth:`begin`)."""

    def begin(self) -> None:
        """Take the rules as they are now for the builds that follow."""
        self._ruled = (
            {r for r in self._registries if self._rules.has_rules(r)}
            if self._apply_overrides
            else set()
        )

    def build(self, sid: ServiceId, listed: Iterable[Iterable[Endpoint]]) -> Service:
        """The service ``sid`` from the endpoints each of its sources lists (``listed`` is only
        iterated when the filter wants ``sid``)."""
        best: dict[tuple[str, str, int, str], Endpoint] = {}
        wanted = self._wanted
        if wanted.active and not wanted.service(sid):
            return Service.create(sid, ())
        check_app = wanted.active and bool(
            wanted.include_applications or wanted.exclude_applications
        )
        ruled = self._ruled
        key = sid.key
        last_params: object = None  # endpoints of a service mostly share one params tuple
        last_disabled = False
        for eps in listed:
            for ep in eps:
                if check_app and not wanted.application(ep.application):
                    continue
                if ep.registry in ruled:
                    final = self.override(ep)
                    if final is None:
                        continue
                else:
                    if ep.params is not last_params:
                        last_params, last_disabled = ep.params, provider_disabled(ep.params)
                    if last_disabled:
                        continue
                    final = ep
                identity = (final.protocol, final.address, final.port, key)  # final.identity
                prior = best.setdefault(identity, final)
                if prior is not final and _preference(final) < _preference(prior):
                    best[identity] = final
        return Service.from_unique(sid, best)

    def override(self, ep: Endpoint) -> Endpoint | None:
        """``ep`` after its registry's rules (None: disabled)."""
        return apply_rules(ep, *self._layers(ep))

    def rules_for(self, ep: Endpoint) -> tuple[OverrideRule, ...]:
        """Every effective rule that matches ``ep`` (debugging aid)."""
        return tuple(r for layer in self._layers(ep) for r in layer if r.matches(ep))

    def _layers(self, ep: Endpoint) -> tuple[tuple[OverrideRule, ...], ...]:
        """The rule layers that may concern ``ep``, in the order Java applies them: URL rules of
        its interface, then YAML rules of its application, then of its service."""
        app_name, service_name = rule_names_for(ep)
        return (
            self._rules.url_rules(ep.registry, ep.service.interface),
            self._rules.yaml_rules(ep.registry, app_name),
            self._rules.yaml_rules(ep.registry, service_name),
        )
