"""Read the deployment files the way Docker does, and run their commands without it.

The engine-free half of the deployment proof (scripts/docker_proof.py is the other,
on a real engine): it parses docker-compose.yml, the Dockerfile and .env.example,
then runs each service's command exactly as written
(entrypoint + command, the compose environment, the image's ENV) against the local
PostgreSQL. The mapping from container to checkout is the only translation: the
image's WORKDIR (/app) is the repository root and `python`/`gunicorn` are the
test interpreter's.
"""

import json
import os
import re
import secrets
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
IMAGE_WORKDIR = "/app"


# ---- docker-compose.yml ----------------------------------------------------------


def load_compose() -> dict:
    # PyYAML's safe loader resolves the `<<: *app` merge keys the compose file uses.
    return yaml.safe_load(COMPOSE_FILE.read_text())


_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})"
)


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, $$ rules."""

    def replace(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"]
        current = variables.get(name)
        if op in (":-", "-"):
            unset = current is None or (op == ":-" and current == "")
            return arg if unset else current
        if op in (":?", "?"):
            if current is None or (op == ":?" and current == ""):
                raise KeyError(f"compose would refuse to start: {name}: {arg}")
            return current
        return current or ""

    return _INTERPOLATION.sub(replace, value)


def compose_variables() -> set[str]:
    """Every ${NAME} the compose file reads from .env / the shell."""
    return {
        m["name"]
        for m in _INTERPOLATION.finditer(COMPOSE_FILE.read_text())
        if m["name"]
    }


def required_compose_variables() -> set[str]:
    return {
        m["name"]
        for m in _INTERPOLATION.finditer(COMPOSE_FILE.read_text())
        if m["name"] and m["op"] in (":?", "?")
    }


def parse_duration(value: str) -> float:
    """Compose durations: "1m30s", "35s", "5m"."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise ValueError(f"not a compose duration: {value!r}")
    return sum(float(n) * units[u] for n, u in parts)


# ---- .env.example ------------------------------------------------------------------

_ENV_LINE = re.compile(
    r"^(?P<commented>#\s*)?(?P<name>[A-Z][A-Z0-9_]*(?:<[A-Z]+>)?)=(?P<value>.*)$"
)


def env_example_values() -> dict[str, str]:
    """The uncommented assignments: what a copied .env sets."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = _ENV_LINE.match(line.strip())
        if match and not match["commented"]:
            values[match["name"]] = match["value"]
    return values


def env_example_documented() -> set[str]:
    """Every variable .env.example shows, set or commented out."""
    return {
        match["name"]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if (match := _ENV_LINE.match(line.strip()))
    }


# ---- Dockerfile ----------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction, or None for shell form."""
        text = self.args
        # HEALTHCHECK [options] CMD [...]: the array follows "CMD".
        if self.keyword == "HEALTHCHECK":
            parts = re.split(r"(?:^|\s)CMD\s", text, maxsplit=1)
            text = parts[1].strip() if len(parts) == 2 else ""
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value if isinstance(value, list) else None


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        """ENV key=value pairs, in order (later wins)."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for token in shlex.split(instruction.args):
                name, _, value = token.partition("=")
                values[name] = value
        return values


def parse_dockerfile() -> tuple[dict[str, str], list[Stage]]:
    """Global ARGs and the stages, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            base = interpolate(words[0], args)
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=base, name=name))
        elif not stages and keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        else:
            stages[-1].instructions.append(Instruction(keyword, rest.strip()))
    return args, stages


def in_checkout(argv: list[str]) -> list[str]:
    """A container command line, with /app paths pointing into the checkout."""
    prefix = IMAGE_WORKDIR.rstrip("/") + "/"
    return [
        str(ROOT / arg[len(prefix) :]) if arg.startswith(prefix) else arg
        for arg in argv
    ]


def container_argv(service: dict, runtime: Stage) -> list[str]:
    """ENTRYPOINT + command as Docker would exec them (compose command replaces CMD)."""
    entrypoint = service.get("entrypoint") or runtime.last("ENTRYPOINT").exec_form()
    command = service.get("command") or runtime.last("CMD").exec_form()
    return in_checkout([*entrypoint, *command])


def container_env(
    service: dict,
    runtime: Stage,
    dotenv: dict[str, str],
    overrides: dict[str, str],
) -> dict[str, str]:
    """The environment a container of ``service`` gets, plus test-only overrides.

    Precedence as in Docker: image ENV < env_file < compose environment. PATH puts
    this interpreter's bin first, so `python` and `gunicorn` are the tested ones.
    """
    env = {
        "PATH": os.pathsep.join(
            [str(Path(sys.executable).parent), os.environ.get("PATH", "")]
        ),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }
    env.update(runtime.env())
    if service.get("env_file"):
        env.update(dict(dotenv.items()))
    for name, value in (service.get("environment") or {}).items():
        env[name] = interpolate(str(value), dotenv)
    env.update(overrides)
    return env


def filled_dotenv() -> dict[str, str]:
    """.env.example as an operator fills it in: the required secrets get values."""
    values = env_example_values()
    values["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    values["POSTGRES_PASSWORD"] = secrets.token_hex(24)
    return values
