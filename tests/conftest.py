"""Shared pytest configuration: fixture plugins of each area register here (append to the list)."""

from __future__ import annotations

pytest_plugins = ["tests.support.zookeeper", "tests.support.kube"]
