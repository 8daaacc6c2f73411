"""The emulator's starting state: a realistic default, or a TOML seed file (format in
the README, "The sandbox") that mirrors an operator's real provider setup."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smsctl.core.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from smsctl.sandbox.signing import AccessKey
from smsctl.sandbox.state import (
    AUDIT_STATUSES,
    FAULT_NAMES,
    INTL_TYPES,
    TEMPLATE_TYPES,
    VOICE_KINDS,
    FlowLimit,
    Review,
    Seed,
    Signature,
    Template,
    Transition,
    VoiceTemplate,
)

SANDBOX_ACCESS_KEY_ID = "LTAI5tSandboxKey0000001"
SANDBOX_ACCESS_KEY_SECRET = "SandboxSecretNotForProduction1"
DISABLED_ACCESS_KEY_ID = "LTAI5tSandboxDisabled01"

TOP_LEVEL_KEYS = {
    "receipt_delay",
    "call_result_delay",
    "slow_seconds",
    "retry_after_ms",
    "access_keys",
    "signatures",
    "templates",
    "voice_templates",
    "faults",
    "flow_control",
    "review",
}


def default_seed() -> Seed:
    return Seed(
        access_keys=[
            AccessKey(SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET),
            AccessKey(DISABLED_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET, enabled=False),
        ],
        signatures=[
            Signature("Acme", "approved", usage="general", create_date="2024-03-01 10:00:00"),
            Signature("Acme登录", "approved", usage="verification"),
            Signature("阿里云短信测试", "approved", usage="verification"),
            Signature("AcmeBeta", "pending", create_date="2024-06-10 09:30:00"),
            Signature(
                "AcmeOld",
                "rejected",
                reason="签名归属证明材料不足：请上传营业执照或商标注册证书",
                create_date="2023-11-20 15:12:00",
            ),
        ],
        templates=[
            Template(
                "SMS_100000001",
                "Login code",
                "您的验证码为：${code}，5分钟内有效，请勿泄露于他人！",
                "verification",
                related_sign_name="Acme",
            ),
            Template(
                "SMS_100000002",
                "Register code",
                "Your Acme code is ${code}. It expires in ${minutes} minutes.",
                "verification",
                related_sign_name="Acme",
            ),
            Template(
                "SMS_100000003",
                "Order shipped",
                "尊敬的${name}，您的订单${order}已发货，请注意查收。",
                "notification",
                related_sign_name="Acme",
            ),
            Template(
                "SMS_100000004",
                "Service alert",
                "【告警】${service}状态为${status}，请及时处理。",
                "notification",
                status="pending",
                related_sign_name="Acme",
            ),
            Template(
                "SMS_100000005",
                "Spring sale",
                "春季大促，全场5折，点击${link}参与",
                "notification",
                status="rejected",
                reason="模板内容含营销信息，请选择推广短信类型申请",
                related_sign_name="Acme",
            ),
            Template(
                "SMS_100000006",
                "International code",
                "Your Acme verification code is ${code}. It is valid for 5 minutes.",
                "international",
                related_sign_name="Acme",
            ),
            Template(
                "SMS_154950909",
                "阿里云短信测试",
                "您正在使用阿里云短信测试服务，体验验证码是：${code}，如非本人操作，请忽略本短信！",
                "verification",
                related_sign_name="阿里云短信测试",
            ),
        ],
        voice_templates=[
            VoiceTemplate("TTS_100000001", "tts", "您的验证码是${code}，请在5分钟内输入。"),
            VoiceTemplate("TTS_100000002", "tts", "告警：${service}出现故障，请尽快处理。"),
            VoiceTemplate("4c3a1b2e-0d6f-4e35-9d4a-2f1e0c8b7a65.wav", "voice-file"),
            VoiceTemplate(
                "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b.wav",
                "voice-file",
                status="rejected",
                reason="语音文件内容含有背景噪音",
            ),
        ],
    )


def load_seed(path: str | Path) -> Seed:
    """Read a seed file; sections it has replace the default's, the rest keep the default."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Seed file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read seed file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Seed file {path} is not valid TOML: {exc}") from None
    return seed_from_dict(raw, source=str(path))


def seed_from_dict(raw: dict[str, Any], source: str = "seed") -> Seed:
    unknown = sorted(set(raw) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {unknown[0]!r}",
            hint=f"Known keys: {', '.join(sorted(TOP_LEVEL_KEYS))}.",
        )
    seed = default_seed()
    for name in ("receipt_delay", "call_result_delay", "slow_seconds"):
        if name in raw:
            setattr(seed, name, _number(raw[name], f"{source}: {name}"))
    if "retry_after_ms" in raw:
        seed.retry_after_ms = int(_number(raw["retry_after_ms"], f"{source}: retry_after_ms"))
    sections: dict[str, Callable[[dict[str, Any], str], Any]] = {
        "access_keys": _access_key,
        "signatures": _signature,
        "templates": _template,
        "voice_templates": _voice_template,
    }
    for name, build in sections.items():
        if name in raw:
            items = _table_list(raw[name], f"{source}: {name}")
            setattr(
                seed, name, [build(item, f"{source}: {name}[{i}]") for i, item in enumerate(items)]
            )
    if not seed.access_keys:
        raise ConfigError(f"{source}: access_keys is empty; at least one key is needed.")
    if "faults" in raw:
        seed.faults = _faults(raw["faults"], f"{source}: faults")
    if "flow_control" in raw:
        _flow_control(raw["flow_control"], seed, f"{source}: flow_control")
    if "review" in raw:
        seed.review = _review(raw["review"], f"{source}: review")
    _check_unique(seed)
    return seed


def _access_key(item: dict[str, Any], where: str) -> AccessKey:
    _only(item, {"id", "secret", "enabled"}, where)
    return AccessKey(
        id=_text(item, "id", where),
        secret=_text(item, "secret", where),
        enabled=_bool(item, "enabled", where, True),
    )


def _signature(item: dict[str, Any], where: str) -> Signature:
    _only(item, {"name", "status", "reason", "usage", "create_date", *TRANSITION_KEYS}, where)
    usage = _text(item, "usage", where, "general")
    if usage not in ("general", "verification"):
        raise ConfigError(f"{where}: usage must be 'general' or 'verification', not {usage!r}")
    return Signature(
        name=_text(item, "name", where),
        status=_status(item, where),
        reason=_text(item, "reason", where, ""),
        usage=usage,
        create_date=_text(item, "create_date", where, "2024-03-01 10:00:00"),
        transitions=_transitions(item, where),
    )


def _template(item: dict[str, Any], where: str) -> Template:
    keys = {"code", "name", "content", "type", "status", "reason", "related_sign_name"}
    _only(item, {*keys, "create_date", "intl_type", *TRANSITION_KEYS}, where)
    kind = _text(item, "type", where, "verification")
    if kind not in TEMPLATE_TYPES:
        raise ConfigError(f"{where}: type must be one of {', '.join(TEMPLATE_TYPES)}, not {kind!r}")
    intl_type = _text(item, "intl_type", where, "verification")
    if intl_type not in INTL_TYPES:
        raise ConfigError(
            f"{where}: intl_type must be one of {', '.join(INTL_TYPES)}, not {intl_type!r}"
        )
    return Template(
        code=_text(item, "code", where),
        name=_text(item, "name", where, ""),
        content=_text(item, "content", where),
        type=kind,
        status=_status(item, where),
        reason=_text(item, "reason", where, ""),
        related_sign_name=_text(item, "related_sign_name", where, ""),
        create_date=_text(item, "create_date", where, "2024-03-01 10:00:00"),
        transitions=_transitions(item, where),
        intl_type=intl_type,
    )


def _voice_template(item: dict[str, Any], where: str) -> VoiceTemplate:
    _only(item, {"code", "kind", "content", "status", "reason"}, where)
    kind = _text(item, "kind", where, "tts")
    if kind not in VOICE_KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(VOICE_KINDS)}, not {kind!r}")
    content = _text(item, "content", where, "")
    if kind == "tts" and not content:
        raise ConfigError(f"{where}: a tts voice template needs content")
    return VoiceTemplate(
        code=_text(item, "code", where),
        kind=kind,
        content=content,
        status=_status(item, where),
        reason=_text(item, "reason", where, ""),
    )


TRANSITION_KEYS = {"then_status", "then_reason", "then_content", "after_queries", "after_seconds"}


def _review(raw: Any, where: str) -> Review:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    _only(raw, {"delay", "reject_marker", "reason"}, where)
    default = Review()
    return Review(
        delay=_number(raw["delay"], f"{where}.delay") if "delay" in raw else default.delay,
        reject_marker=_text(raw, "reject_marker", where, default.reject_marker),
        reason=_text(raw, "reason", where, default.reason),
    )


def _transitions(item: dict[str, Any], where: str) -> list[Transition]:
    if "then_status" not in item and "then_content" not in item:
        if TRANSITION_KEYS & set(item):
            raise ConfigError(f"{where}: after_queries/after_seconds need then_status")
        return []
    if "then_content" in item and "content" not in item:
        raise ConfigError(f"{where}: then_content is for templates (a change of their content)")
    status = item.get("then_status", "")
    if status and status not in AUDIT_STATUSES:
        raise ConfigError(
            f"{where}: then_status must be one of {', '.join(AUDIT_STATUSES)}, not {status!r}"
        )
    after_queries = item.get("after_queries")
    after_seconds = item.get("after_seconds")
    if after_queries is None and after_seconds is None:
        raise ConfigError(f"{where}: then_status needs after_queries or after_seconds")
    if after_queries is not None and (not isinstance(after_queries, int) or after_queries < 0):
        raise ConfigError(f"{where}: after_queries must be a non-negative integer")
    if after_seconds is not None:
        after_seconds = _number(after_seconds, f"{where}: after_seconds")
    content = item.get("then_content")
    if content is not None and (not isinstance(content, str) or not content):
        raise ConfigError(f"{where}: then_content must be a non-empty string")
    return [
        Transition(
            status=status,
            reason=_text(item, "then_reason", where, ""),
            after_queries=after_queries,
            after_seconds=after_seconds,
            content=content,
        )
    ]


def _faults(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table of number = fault")
    faults = {}
    for number, fault in raw.items():
        if fault not in FAULT_NAMES:
            raise ConfigError(
                f"{where}: unknown fault {fault!r} for {number}",
                hint=f"Known faults: {', '.join(FAULT_NAMES)}.",
            )
        national = national_number(number)
        if national is None:
            raise ConfigError(f"{where}: {number!r} is not a mainland mobile number")
        faults[national] = fault
    return faults


def _flow_control(raw: Any, seed: Seed, where: str) -> None:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    _only(raw, {"sms", "voice"}, where)
    for channel, table in raw.items():
        here = f"{where}.{channel}"
        if not isinstance(table, dict):
            raise ConfigError(f"{here} must be a table")
        _only(table, {"per_minute", "per_hour", "per_day"}, here)
        current: FlowLimit = getattr(seed, f"{channel}_flow_limit")
        values = {}
        for key in ("per_minute", "per_hour", "per_day"):
            value = table.get(key, getattr(current, key))
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{here}.{key} must be a positive integer")
            values[key] = value
        setattr(seed, f"{channel}_flow_limit", FlowLimit(**values))


def _check_unique(seed: Seed) -> None:
    for label, keys in (
        ("access key id", [k.id for k in seed.access_keys]),
        ("signature name", [s.name for s in seed.signatures]),
        ("template code", [t.code for t in seed.templates]),
        ("voice template code", [t.code for t in seed.voice_templates]),
    ):
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                raise ConfigError(f"Seed: duplicate {label} {key!r}")
            seen.add(key)


def national_number(number: str) -> str | None:
    """The 11-digit national form of a mainland mobile number, or None."""
    digits = number.strip().replace(" ", "").replace("-", "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if len(digits) == 11 and digits.isdigit() and digits[0] == "1" and digits[1] in "3456789":
        return digits
    return None


def _table_list(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(f"{where} must be an array of tables ([[{where.split(': ')[-1]}]])")
    return value


def _only(item: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}", hint=f"Allowed: {', '.join(sorted(allowed))}."
        )


_REQUIRED = object()


def _text(item: dict[str, Any], key: str, where: str, default: Any = _REQUIRED) -> str:
    if key not in item:
        if default is _REQUIRED:
            raise ConfigError(f"{where}: missing {key}")
        return default
    value = item[key]
    if not isinstance(value, str) or (default is _REQUIRED and not value):
        raise ConfigError(f"{where}: {key} must be a non-empty string")
    return value


def _bool(item: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false")
    return value


def _status(item: dict[str, Any], where: str) -> str:
    status = item.get("status", "approved")
    if status not in AUDIT_STATUSES:
        raise ConfigError(
            f"{where}: status must be one of {', '.join(AUDIT_STATUSES)}, not {status!r}"
        )
    return status


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where} must be a non-negative number")
    return float(value)
