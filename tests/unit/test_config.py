"""Config schema and loader: good configs load with defaults; bad ones name every problem and its line."""

import logging
import typing
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from edge.config import Config, ConfigError, Problem, load_config, validate_files
from edge.config_schema import WHOLE_FRAME
from edge.runtime import DEFAULT_MODELS_DIR

REPO = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO / "config"
MINIMAL = "site: gate-1\nmqtt:\n  host: broker.local\n"


def write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path, **kwargs: Any) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        load_config(path, **kwargs)
    return info.value.problems


def test_demo_config_loads() -> None:
    config = load_config(CONFIG_DIR / "demo.yaml")
    assert (config.site, config.topic_prefix, config.mqtt.client_id) == (
        "demo",
        "plate-edge/demo",
        "plate-edge-demo",
    )
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.tls, config.mqtt.username) == (
        "127.0.0.1",
        1883,
        None,
        None,
    )
    assert [(c.id, c.url, c.direction) for c in config.cameras] == [
        ("entry", "rtsp://127.0.0.1:8554/entry", "entry")
    ]
    assert config.storage.state_dir == REPO / ".state"  # relative to the YAML's folder, not the cwd
    assert (config.http.host, config.http.port) == ("127.0.0.1", 8080)


def test_site_example_loads() -> None:
    config = load_config(CONFIG_DIR / "site.example.yaml")
    assert [(c.id, c.direction) for c in config.cameras] == [("entry", "entry"), ("exit", "exit")]
    assert config.mqtt.port == 8883 and config.mqtt.tls is not None
    assert config.mqtt.tls.ca_file == Path("/etc/plate-edge/tls/ca.pem")
    assert config.mqtt.password_file == Path("/run/credentials/plate-edge.service/mqtt-password")
    assert config.lists.allow is not None and config.lists.allow.file == CONFIG_DIR / "allow.txt"
    assert config.cameras[0].redacted_url == "rtsp://USER:***@192.168.10.21:554/Streaming/Channels/101"


def test_site_example_documents_every_key() -> None:
    """The example is the reference installers read: every key of the schema appears in it."""
    text = (CONFIG_DIR / "site.example.yaml").read_text(encoding="utf-8")
    missing = [name for model in _models(Config) for name, field in model.model_fields.items()
               if not field.exclude and f"{name}:" not in text]  # fmt: skip
    assert missing == []


def test_every_key_has_a_description() -> None:
    undocumented = [
        f"{model.__name__}.{name}"
        for model in _models(Config)
        for name, field in model.model_fields.items()
        if not field.description
    ]
    assert undocumented == []
    assert all(model.__doc__ for model in _models(Config))


GOOD: list[tuple[str, str, Callable[[Config], object], object]] = [
    (
        "defaults",
        MINIMAL,
        lambda c: (c.topic_prefix, c.mqtt.client_id, c.cameras),
        ("plate-edge/gate-1", "plate-edge-gate-1", ()),
    ),
    (
        "default dirs",
        MINIMAL,
        lambda c: (c.recognition.models_dir, c.storage.state_dir),
        (DEFAULT_MODELS_DIR, Path("/var/lib/plate-edge")),
    ),
    ("explicit prefix", MINIMAL + "topic_prefix: parking/lot-a\n", lambda c: c.topic_prefix, "parking/lot-a"),
    ("tls implies 8883", MINIMAL + "  tls: {}\n", lambda c: c.mqtt.port, 8883),
    ("tls keeps explicit port", MINIMAL + "  tls: {}\n  port: 9883\n", lambda c: c.mqtt.port, 9883),
    ("protocol as number", MINIMAL + "  protocol: 5\n", lambda c: c.mqtt.protocol, "5"),
    ("level case", MINIMAL + "logging: {level: debug}\n", lambda c: c.logging.level, "DEBUG"),
    (
        "roi default",
        MINIMAL + "cameras: [{id: a, url: rtsp://h/1}]\n",
        lambda c: c.cameras[0].roi,
        WHOLE_FRAME,
    ),
    (
        "file camera",
        MINIMAL + "cameras: [{id: a, url: clips/a.mp4}]\n",
        lambda c: c.cameras[0].url,
        lambda d: str(d / "clips/a.mp4"),
    ),
    (
        "relative list",
        MINIMAL + "lists: {deny: {file: ../deny.txt, max_distance: 2}}\n",
        lambda c: c.lists.deny.file,  # type: ignore[union-attr]
        lambda d: d.parent / "deny.txt",
    ),
    (
        "env password",
        MINIMAL + "  username: u\n  password_env: MQTT_PW\n",
        lambda c: c.mqtt.password_env,
        "MQTT_PW",
    ),
]


@pytest.mark.parametrize(("text", "get", "expected"), [row[1:] for row in GOOD], ids=[row[0] for row in GOOD])
def test_good_configs(tmp_path: Path, text: str, get: Callable[[Config], object], expected: object) -> None:
    if callable(expected):  # paths resolve against the YAML's folder, which is tmp_path
        expected = expected(tmp_path)
    assert get(load_config(write(tmp_path, text))) == expected


BAD: list[tuple[str, str, list[tuple[str, int, str]]]] = [
    (
        "typo, type, missing url",
        """\
        site: gate-1
        mqtt:
          host: broker.local
          port: eighty
        cameras:
          - id: entry
            url: rtsp://cam/1
            detct_fps: 5
          - id: exit
            direction: exit
        """,
        [
            ("mqtt.port", 4, "valid integer, unable to parse string as an integer (got 'eighty')"),
            ("cameras[0].detct_fps", 8, "unknown key 'detct_fps' (did you mean 'detect_fps'?)"),
            ("cameras[1].url", 9, "required key is missing"),
        ],
    ),
    (
        "duplicate camera ids",
        MINIMAL
        + dedent("""\
        cameras:
          - {id: entry, url: rtsp://h/1}
          - {id: exit, url: rtsp://h/2}
          - {id: entry, url: rtsp://h/3}
        """),
        [("cameras", 4, "duplicate camera id 'entry' at cameras[0] and cameras[2]")],
    ),
    (
        "literal password",
        MINIMAL + "  username: u\n  password: hunter2\n",
        [("mqtt.password", 5, "set password_file")],
    ),
    (
        "top-level typo",
        MINIMAL + "camera: []\n",
        [("camera", 4, "unknown key 'camera' (did you mean 'cameras'?)")],
    ),
    (
        "unknown key, no near name",
        MINIMAL + "http: {colour: red}\n",
        [("http.colour", 4, "unknown key 'colour' (known keys: enabled, host, port)")],
    ),
    (
        "password is not a suggestion",
        MINIMAL + "  pasword_file: x\n",
        [("mqtt.pasword_file", 4, "did you mean 'password_file'?")],
    ),
    (
        "section not a mapping",
        "site: gate-1\nmqtt: broker.local\n",
        [("mqtt", 2, "expected a mapping of keys (got 'broker.local')")],
    ),
    ("missing mqtt", "site: gate-1\n", [("mqtt", 1, "required key is missing")]),
    ("missing host", "site: gate-1\nmqtt: {port: 1883}\n", [("mqtt.host", 2, "required key is missing")]),
    ("bad site id", "site: Gate 1\nmqtt: {host: b}\n", [("site", 1, "'Gate 1' is not a valid id")]),
    (
        "bad camera id",
        MINIMAL + "cameras: [{id: -a, url: rtsp://h/1}]\n",
        [("cameras[0].id", 4, "not a valid id")],
    ),
    ("wildcard prefix", MINIMAL + "topic_prefix: a/+/b\n", [("topic_prefix", 4, "wildcards")]),
    (
        "leading slash prefix",
        MINIMAL + "topic_prefix: /a\n",
        [("topic_prefix", 4, "must not start with '/'")],
    ),
    (
        "port range",
        MINIMAL + "  port: 70000\n",
        [("mqtt.port", 4, "less than or equal to 65535 (got 70000)")],
    ),
    ("bad protocol", MINIMAL + "  protocol: 4\n", [("mqtt.protocol", 4, "(got '4')")]),
    ("qos fixed", MINIMAL + "  qos: 0\n", [("mqtt.qos", 4, "Input should be 1 (got 0)")]),
    (
        "cert without key",
        MINIMAL + "  tls: {cert_file: c.pem}\n",
        [("mqtt.tls", 4, "cert_file and key_file go together")],
    ),
    (
        "two password sources",
        MINIMAL + "  username: u\n  password_file: p\n  password_env: P\n",
        [("mqtt", 2, "not both")],
    ),
    ("password without user", MINIMAL + "  password_env: P\n", [("mqtt", 2, "needs a username")]),
    ("bad env name", MINIMAL + "  username: u\n  password_env: 1-x\n", [("mqtt.password_env", 5, "pattern")]),
    (
        "bad direction",
        MINIMAL + "cameras: [{id: a, url: rtsp://h/1, direction: entrance}]\n",
        [("cameras[0].direction", 4, "'entry' or 'exit' (got 'entrance')")],
    ),
    (
        "roi point outside",
        MINIMAL + "cameras:\n- id: a\n  url: rtsp://h/1\n  roi: [[0, 0], [2, 0], [1, 1]]\n",
        [("cameras[0].roi[1][0]", 7, "less than or equal to 1 (got 2)")],
    ),
    (
        "roi two points",
        MINIMAL + "cameras: [{id: a, url: rtsp://h/1, roi: [[0, 0], [1, 1]]}]\n",
        [("cameras[0].roi", 4, "at least 3 points, got 2")],
    ),
    (
        "roi collinear",
        MINIMAL + "cameras: [{id: a, url: rtsp://h/1, roi: [[0, 0], [0.5, 0.5], [1, 1]]}]\n",
        [("cameras[0].roi", 4, "encloses no area")],
    ),
    (
        "http url",
        MINIMAL + "cameras: [{id: a, url: 'http://h/1'}]\n",
        [("cameras[0].url", 4, "unsupported URL scheme 'http'")],
    ),
    (
        "rtsp without host",
        MINIMAL + "cameras: [{id: a, url: 'rtsp:///x'}]\n",
        [("cameras[0].url", 4, "no host")],
    ),
    (
        "fps zero",
        MINIMAL + "cameras: [{id: a, url: rtsp://h/1, detect_fps: 0}]\n",
        [("cameras[0].detect_fps", 4, "greater than 0")],
    ),
    (
        "fps too high",
        MINIMAL + "cameras: [{id: a, url: rtsp://h/1, detect_fps: 31}]\n",
        [("cameras[0].detect_fps", 4, "30")],
    ),
    (
        "backoff order",
        MINIMAL + "cameras:\n- id: a\n  url: rtsp://h/1\n  reconnect: {initial_s: 10, max_s: 1}\n",
        [("cameras[0].reconnect", 7, "must not be below initial_s")],
    ),
    (
        "list distance",
        MINIMAL + "lists:\n  allow: {file: a.txt, max_distance: 4}\n",
        [("lists.allow.max_distance", 5, "(got 4)")],
    ),
    ("list as a string", MINIMAL + "lists:\n  allow: a.txt\n", [("lists.allow", 5, "expected a mapping")]),
    ("boolean given", "site: true\nmqtt: {host: b}\n", [("site", 1, "valid string (got true)")]),
    ("not a boolean", MINIMAL + "http: {enabled: maybe}\n", [("http.enabled", 4, "(got 'maybe')")]),
    (
        "duplicate yaml key",
        MINIMAL + "recognition:\n  best_k: 3\n  best_k: 4\n",
        [("recognition.best_k", 6, "duplicate key 'best_k' (first at line 5)")],
    ),
    ("top level list", "- site: a\n", [("", 1, "expected a mapping of keys (got a list)")]),
    ("unquoted yes key", MINIMAL + "yes: 1\n", [("", 1, "keys must be names, not true: quote it")]),
    ("number key", MINIMAL + "http: {8080: x}\n", [("http", 4, "keys must be names, not 8080")]),
]


@pytest.mark.parametrize(("text", "expected"), [row[1:] for row in BAD], ids=[row[0] for row in BAD])
def test_bad_configs(tmp_path: Path, text: str, expected: list[tuple[str, int, str]]) -> None:
    problems = problems_of(write(tmp_path, text))
    assert [(p.path, p.line) for p in problems] == [(path, line) for path, line, _ in expected]
    for problem, (_, _, message) in zip(problems, expected, strict=True):
        assert message in problem.message


def test_literal_password_is_explained_and_never_echoed(tmp_path: Path) -> None:
    [problem] = problems_of(write(tmp_path, MINIMAL + "  username: u\n  password: hunter2\n"))
    assert "hunter2" not in problem.message
    for hint in ("password_file", "password_env", "LoadCredential", "CREDENTIALS_DIRECTORY"):
        assert hint in problem.message


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b"site: a\nmqtt:\n  host: x\n  - y\n", 4, "YAML syntax error"),
        (b"site: [a\n", 2, "YAML syntax error"),
        (b"site: a\n\tmqtt: x\n", 2, "YAML syntax error"),
        (b"", None, "the file is empty"),
        (b"site: \xff\n", None, "not UTF-8"),
    ],
    ids=["bad indent", "unclosed list", "tab", "empty", "binary"],
)
def test_unparsable_files(tmp_path: Path, content: bytes, line: int | None, message: str) -> None:
    path = tmp_path / "site.yaml"
    path.write_bytes(content)
    [problem] = problems_of(path)
    assert (problem.path, problem.line) == ("", line)
    assert message in problem.message


@pytest.mark.parametrize("name", ["missing.yaml", "."], ids=["missing", "directory"])
def test_unreadable_file(tmp_path: Path, name: str) -> None:
    [problem] = problems_of(tmp_path / name)
    assert problem.message.startswith("cannot read the config file: ")
    assert problem.format("x.yaml") == f"x.yaml: {problem.message}"


def test_problem_format() -> None:
    assert Problem("cameras[1].url", "required key is missing", 9).format("s.yaml") == (
        "s.yaml:9: cameras[1].url: required key is missing"
    )
    assert Problem("", "YAML syntax error: x", 3).format("s.yaml") == "s.yaml:3: YAML syntax error: x"


def test_validate_files_reports_missing_files(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "allow.txt").write_text("12가3456\n")
    path = write(tmp_path, MINIMAL + dedent("""\
          tls: {ca_file: ca.pem, cert_file: c.pem, key_file: k.pem}
          username: u
          password_file: secret
        cameras: [{id: a, url: clip.mp4}, {id: b, url: rtsp://h/1}]
        recognition: {models_dir: models}
        lists: {allow: {file: allow.txt}, deny: {file: deny.txt}}
        """))  # fmt: skip
    config = load_config(path)  # the schema alone does not look at the disk
    expected = [
        ("mqtt.tls.cert_file", 4, f"file not found: {tmp_path / 'c.pem'}"),
        ("mqtt.tls.key_file", 4, f"file not found: {tmp_path / 'k.pem'}"),
        ("mqtt.password_file", 6, f"file not found: {tmp_path / 'secret'}"),
        ("cameras[0].url", 7, f"file not found: {tmp_path / 'clip.mp4'}"),
        ("recognition.models_dir", 8, f"directory not found: {tmp_path / 'models'}"),
        ("lists.deny.file", 9, f"file not found: {tmp_path / 'deny.txt'}"),
    ]
    assert sorted(validate_files(config), key=lambda p: p.path) == sorted(
        (Problem(p, m) for p, _, m in expected), key=lambda p: p.path
    )
    assert problems_of(path, check_files=True) == [Problem(p, m, line) for p, line, m in expected]


def test_validate_files_passes_when_files_exist(tmp_path: Path) -> None:
    for name in ("ca.pem", "allow.txt", "secret"):
        (tmp_path / name).write_text("x\n")
    (tmp_path / "models").mkdir()
    text = MINIMAL + "  tls: {ca_file: ca.pem}\n  username: u\n  password_file: secret\n"
    text += "recognition: {models_dir: models}\nlists: {allow: {file: allow.txt}}\n"
    config = load_config(write(tmp_path, text), check_files=True)
    assert validate_files(config) == []


def test_a_list_file_run_would_refuse_is_a_problem(tmp_path: Path) -> None:
    """`check-config --strict` reads the list files as `run` will, so an installer hears of it first."""
    (tmp_path / "allow.txt").write_bytes("12가3456\n".encode("cp949"))  # Korean Windows "ANSI"
    (tmp_path / "deny.txt").write_text("56다7890\n", encoding="utf-8")
    path = write(tmp_path, MINIMAL + "lists: {allow: {file: allow.txt}, deny: {file: deny.txt}}\n")
    ((where, message),) = [(p.path, p.message) for p in validate_files(load_config(path))]
    assert where == "lists.allow.file"
    assert message.startswith(f"{tmp_path / 'allow.txt'}: cannot read the plate list: not UTF-8")


def test_a_list_typo_is_logged_once_when_the_daemon_checks_and_loads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`run` validates the files (the list's encoding), then loads the lists: the entries are parsed,
    and a typo logged, only by the loading."""
    from edge.lists import PlateLists

    (tmp_path / "allow.txt").write_text("12가3456\n12가345\n", encoding="utf-8")
    (tmp_path / "models").mkdir()
    path = write(tmp_path, MINIMAL + "recognition: {models_dir: models}\nlists: {allow: {file: allow.txt}}\n")
    with caplog.at_level(logging.WARNING, logger="edge.lists"):
        config = load_config(path, check_files=True)
        assert caplog.records == []
        PlateLists.from_config(config.lists)
    assert ["'12가345' is not a Korean plate" in r.getMessage() for r in caplog.records] == [True]


def test_read_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret").write_text("s3cret\n")
    from_file = load_config(write(tmp_path, MINIMAL + "  username: u\n  password_file: secret\n"))
    assert from_file.mqtt.read_password() == "s3cret"
    assert "s3cret" not in repr(from_file)
    from_env = load_config(write(tmp_path, MINIMAL + "  username: u\n  password_env: PE_TEST_PW\n"))
    monkeypatch.delenv("PE_TEST_PW", raising=False)
    with pytest.raises(LookupError, match="PE_TEST_PW"):
        from_env.mqtt.read_password()
    monkeypatch.setenv("PE_TEST_PW", "from-env")
    assert from_env.mqtt.read_password() == "from-env"
    assert load_config(write(tmp_path, MINIMAL)).mqtt.read_password() is None


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(ValidationError):
        config.site = "other"


@given(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,30}", fullmatch=True))
def test_any_slug_is_a_valid_site(site: str) -> None:
    config = Config.model_validate({"site": site, "mqtt": {"host": "b"}})
    assert (config.topic_prefix, config.mqtt.client_id) == (f"plate-edge/{site}", f"plate-edge-{site}")


@given(
    key=st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True).filter(
        lambda k: k not in Config.model_fields and yaml.safe_load(k) == k
    ),
    position=st.integers(min_value=0, max_value=3),
)
def test_unknown_key_is_reported_at_its_line(key: str, position: int) -> None:
    lines = ["site: gate-1", "mqtt:", "  host: b", "http: {port: 8080}"]
    lines.insert(position if position != 2 else 1, f"{key}: 1")  # never inside the mqtt mapping
    problems = _problems_from_text("\n".join(lines) + "\n")
    assert [(p.path, p.line) for p in problems] == [(key, lines.index(f"{key}: 1") + 1)]
    assert problems[0].message.startswith(f"unknown key '{key}'")


def _problems_from_text(text: str) -> list[Problem]:
    # Hypothesis does not mix with function-scoped tmp_path; a private temp dir per example is cheap.
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return problems_of(write(Path(folder), text))


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Every model class reachable from `root` through field annotations."""
    found: list[type[BaseModel]] = []
    pending: list[Any] = [root]
    while pending:
        annotation = pending.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in found:
                found.append(annotation)
                pending += [field.annotation for field in annotation.model_fields.values()]
        else:
            pending += list(typing.get_args(annotation))
    return found
