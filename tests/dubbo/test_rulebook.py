"""RuleBook: what a configurators listing changes, including the empty-directory fast path."""

from __future__ import annotations

from dubbomesh.dubbo.problems import ProblemLog
from dubbomesh.dubbo.registry import ConfiguratorsChanged
from dubbomesh.dubbo.rules import RuleBook
from dubbomesh.dubbo.url import encode_component

RULE = encode_component("override://10.0.0.1:20880/com.acme.A?category=configurators&disabled=true")


def changed(*children: str, directory: str = "com.acme.A") -> ConfiguratorsChanged:
    return ConfiguratorsChanged("zk", "/dubbo", directory, frozenset(children))


def test_empty_unknown_directory_changes_nothing() -> None:
    book = RuleBook(ProblemLog())
    assert book.on_configurators(changed()) == ("none", "")
    assert not book.has_rules("zk")


def test_a_directory_that_held_rules_still_unapplies_when_emptied() -> None:
    book = RuleBook(ProblemLog())
    assert book.on_configurators(changed(RULE)) == ("interface", "com.acme.A")
    assert book.url_rules("zk", "com.acme.A")
    assert book.on_configurators(changed()) == ("interface", "com.acme.A")
    assert not book.url_rules("zk", "com.acme.A")
    assert book.on_configurators(changed()) == ("none", "")  # and is forgotten afterwards


def test_an_other_directory_emptied_does_not_touch_the_ruled_one() -> None:
    book = RuleBook(ProblemLog())
    book.on_configurators(changed(RULE))
    assert book.on_configurators(changed(directory="com.acme.B")) == ("none", "")
    assert book.url_rules("zk", "com.acme.A")
