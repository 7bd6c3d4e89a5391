"""Settings resolution: precedence, validation messages, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from dubbomesh.agent.config import REDACTED, load_file, option_fields_match, resolve
from dubbomesh.agent.options import OPTIONS, ConfigError, parse_duration


def test_every_option_has_a_typed_field() -> None:
    assert option_fields_match()


def test_defaults_are_safe() -> None:
    c = resolve({}, env={})
    assert c.http_listen.startswith("127.0.0.1:")
    assert all(a.startswith("127.0.0.1:") for a in c.xds_listen)
    assert c.namespace == "default"
    assert c.root == ("/dubbo",)
    assert not c.allow_loopback_endpoints


def test_precedence_flag_over_env_over_file() -> None:
    file_values = {"namespace": "from-file", "debounce": "500ms", "root": ["/a"]}
    env = {"DUBBOMESH_NAMESPACE": "from-env", "DUBBOMESH_ROOT": "/b,/c"}
    c = resolve({"namespace": "from-flag"}, env=env, file_values=file_values)
    assert c.namespace == "from-flag"
    assert c.root == ("/b", "/c")
    assert c.debounce == 0.5


def test_pod_namespace_is_the_default_namespace() -> None:
    assert resolve({}, env={"POD_NAMESPACE": "team-a"}).namespace == "team-a"


def test_several_registries_and_auth() -> None:
    env = {
        "DUBBOMESH_ZK": "east=10.0.0.1:2181,10.0.0.2:2181;west=10.1.0.1:2181",
        "DUBBOMESH_ZK_AUTH": "west=alice:s3cr=t",
    }
    c = resolve({}, env=env)
    regs = {r.name: r for r in c.registries}
    assert regs["east"].hosts == "10.0.0.1:2181,10.0.0.2:2181"
    assert regs["west"].auth == "alice:s3cr=t"
    assert regs["east"].auth == ""


def test_secrets_are_redacted() -> None:
    c = resolve({"zk-auth": ["bob:hunter2"]}, env={})
    shown = c.redacted()
    assert shown["zk-auth"] == [REDACTED]
    assert "hunter2" not in repr(shown)


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        ({"sink": ["file"]}, "--output-dir"),
        ({"sink": ["carrier-pigeon"]}, "--sink"),
        ({"zk": ["nohost"]}, "--zk"),
        ({"root": ["dubbo"]}, "--root"),
        ({"xds-listen": ["localhost"]}, "--xds-listen"),
        ({"xds-tls-cert": "/c.pem"}, "--xds-tls-key"),
        ({"debounce": "soon"}, "--debounce"),
        ({"endpoint-mode": "magic"}, "--endpoint-mode"),
        ({"zk": ["a=h:1", "a=h:2"]}, "given twice"),
    ],
)
def test_errors_name_the_setting(flags: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        resolve(flags, env={})


def test_env_errors_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="DUBBOMESH_KUBE_QPS"):
        resolve({}, env={"DUBBOMESH_KUBE_QPS": "fast"})


def test_config_file(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("namespace: mesh\nsink: [file]\noutput_dir: /tmp/x\nleader-elect: false\n")
    c = resolve({}, env={}, file_values=load_file(str(p)))
    assert (c.namespace, c.sink, c.output_dir, c.leader_elect) == (
        "mesh",
        ("file",),
        "/tmp/x",
        False,
    )


def test_config_file_unknown_key(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("namspace: typo\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_file(str(p))


def test_config_file_not_yaml(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("a: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_file(str(p))


@pytest.mark.parametrize(
    ("text", "seconds"), [("250ms", 0.25), ("10s", 10), ("5m", 300), ("1h", 3600), ("1.5", 1.5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_env_names_are_unique_and_prefixed() -> None:
    envs = [o.env for o in OPTIONS]
    assert len(set(envs)) == len(envs)
    assert all(e.startswith("DUBBOMESH_") for e in envs)


@pytest.mark.parametrize("owner", ["east", "Team_A.1", "x"])
def test_owner_accepts_label_values(owner: str) -> None:
    assert resolve({"owner": owner}, env={}).owner == owner


@pytest.mark.parametrize("owner", ["-east", "east-", "a" * 64, "has space", ""])
def test_owner_rejects_what_a_label_cannot_hold(owner: str) -> None:
    with pytest.raises(ConfigError, match="--owner"):
        resolve({"owner": owner}, env={})
