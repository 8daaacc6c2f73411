"""Real examples for every command's `--help`, as gh prints them: one to three a command.

Kept apart from the command modules so that the help of every command reads the same and a test
(tests/test_help_examples.py) can parse every example against the real command tree. The names
used are the ones `smsctl sandbox try` and the channel pages in docs/ use: account `prod`,
signature `Acme`, SMS template `SMS_100000001`, app `ios`.
"""

from __future__ import annotations

# The account verbs are the same on every channel; only the prefix and how an account is added
# differ.
_ACCOUNT_ADD = {
    "": (
        "smsctl account add prod --access-key-id LTAI5tExampleKeyId01",
        "smsctl --no-input account add prod --access-key-id LTAI5tExampleKeyId01 --secret-stdin"
        " < secret.txt",
    ),
    "voice ": (
        "smsctl voice account add prod --access-key-id LTAI5tExampleKeyId01"
        " --called-show-number 057112345678",
    ),
    "email ": (
        "smsctl email account add mail --host smtp.example.com --port 465 --security ssl"
        " --username noreply@example.com --from noreply@example.com",
    ),
    "wechat ": ("smsctl wechat account add official --app-id wx1234567890abcdef",),
}
_ACCOUNT_NAME = {"": "prod", "voice ": "prod", "email ": "mail", "wechat ": "official"}
_ACCOUNT_EDIT = {
    "": (
        "smsctl account edit prod --rotate-secret",
        "smsctl account edit prod --note 'production, owned by the platform team'",
    ),
    "voice ": (
        "smsctl voice account edit prod --called-show-number 057112345678",
        "smsctl voice account edit prod --rotate-secret",
    ),
    "email ": (
        "smsctl email account edit mail --port 587 --security starttls",
        "smsctl email account edit mail --rotate-secret",
    ),
    # An official account cannot be edited: what to do instead.
    "wechat ": (
        "smsctl wechat account delete official --yes",
        "smsctl wechat account add official --app-id wx1234567890abcdef",
    ),
}


def _account_examples() -> dict[str, tuple[str, ...]]:
    examples: dict[str, tuple[str, ...]] = {}
    for prefix, name in _ACCOUNT_NAME.items():
        group = f"{prefix}account"
        examples[group] = (f"smsctl {prefix}account list", *_ACCOUNT_ADD[prefix][:1])
        examples[f"{group} add"] = _ACCOUNT_ADD[prefix]
        examples[f"{group} list"] = (
            f"smsctl {prefix}account list",
            f"smsctl --json {prefix}account list",
        )
        examples[f"{group} show"] = (f"smsctl {prefix}account show {name}",)
        examples[f"{group} edit"] = _ACCOUNT_EDIT[prefix]
        examples[f"{group} enable"] = (f"smsctl {prefix}account enable {name}",)
        examples[f"{group} disable"] = (f"smsctl {prefix}account disable {name}",)
        examples[f"{group} delete"] = (
            f"smsctl {prefix}account delete {name}",
            f"smsctl --no-input {prefix}account delete {name} --yes",
        )
        examples[f"{prefix}validate"] = (
            f"smsctl {prefix}validate {name}",
            f"smsctl {prefix}validate {name} --check-only",
        )
    return examples


def _item_examples(prefix: str, item: str, key: str) -> dict[str, tuple[str, ...]]:
    """enable / disable / delete / show are the same for every kind of item."""
    group = f"{prefix}{item}"
    return {
        f"{group} show": (f"smsctl {group} show {key}", f"smsctl --json {group} show {key}"),
        f"{group} enable": (f"smsctl {group} enable {key}",),
        f"{group} disable": (f"smsctl {group} disable {key}",),
        f"{group} delete": (f"smsctl {group} delete {key}", f"smsctl {group} delete {key} --yes"),
    }


EXAMPLES: dict[str, tuple[str, ...]] = {
    "": (
        "smsctl sandbox try",
        "smsctl send-test --to 13800138000 --scenario login --param code=123456 --wait 60",
        "smsctl --json doctor",
    ),
    **_account_examples(),
    # --- SMS ---------------------------------------------------------------------------------
    "signature": ("smsctl signature list", "smsctl signature add Acme --account prod"),
    "signature add": (
        "smsctl signature add Acme --account prod",
        "smsctl signature add Acme --account prod --allow-pending",
    ),
    "signature list": (
        "smsctl signature list",
        "smsctl signature list --account prod",
        "smsctl signature list --remote --account prod",
    ),
    "signature import": (
        "smsctl signature import Acme --account prod",
        "smsctl signature import --all-approved --account prod",
    ),
    "signature submit": (
        "smsctl signature submit Acme --account prod --qualification-id 12345678"
        " --source enterprise --remark 'Login codes for the Acme app'",
        "smsctl signature submit Acme --account prod --qualification-id 12345678"
        " --source trademark --trademark-id 87654321 --wait 600",
    ),
    "signature sync": ("smsctl signature sync", "smsctl signature sync Acme"),
    "signature edit": (
        "smsctl signature edit Acme --default",
        "smsctl signature edit Acme --no-default",
    ),
    **_item_examples("", "signature", "Acme"),
    "template": (
        "smsctl template list",
        "smsctl template add SMS_100000001 --account prod --scenario login",
    ),
    "template add": (
        "smsctl template add SMS_100000001 --account prod --scenario login",
        "smsctl template add SMS_100000003 --account prod --scenario notification --default",
    ),
    "template list": (
        "smsctl template list",
        "smsctl template list --scenario login --json",
        "smsctl template list --remote --account prod",
    ),
    "template import": (
        "smsctl template import SMS_100000001 SMS_100000002 --account prod --scenario login",
        "smsctl template import --all-approved --account prod --scenario notification",
    ),
    "template submit": (
        "smsctl template submit 'Login code' --account prod --type verification"
        " --scenario login --content 'Your code is ${code}.' --signature Acme",
        "smsctl template submit 'Order shipped' --account prod --type notification"
        " --scenario notification --content 'Order ${order} shipped.' --wait 600",
    ),
    "template resubmit": (
        "smsctl template resubmit SMS_100000005 --content 'Spring sale: ${link}'",
        "smsctl template resubmit SMS_100000005 --remark 'Sent to opted-in customers' --wait 600",
    ),
    "template render": (
        "smsctl template render SMS_100000001 --param code=123456",
        'smsctl template render SMS_100000001 --params-json \'{"code": "123456"}\''
        " --signature Acme",
    ),
    "template edit": (
        "smsctl template edit SMS_100000001 --scenario register",
        "smsctl template edit SMS_100000001 --default",
    ),
    "template sync": ("smsctl template sync", "smsctl template sync SMS_100000001"),
    **_item_examples("", "template", "SMS_100000001"),
    "send-test": (
        "smsctl send-test --to 13800138000 --scenario login --param code=123456 --dry-run",
        "smsctl send-test --to 13800138000 --scenario login --app ios --param code=123456"
        " --wait 60",
        "smsctl --json send-test --to +8613800138000 --template SMS_100000001"
        " --param code=123456 --yes",
    ),
    "receipt": (
        "smsctl receipt --to 13800138000 --biz-id 900619746936498440^0",
        "smsctl receipt --to 13800138000 --out-id st1a2b3c4d5e6f --date 2026-12-01",
    ),
    "lookup": (
        "smsctl lookup 13800138000",
        "smsctl lookup +8613800138000 --date 2026-12-01 --account prod",
        "smsctl --json lookup 13800138000",
    ),
    "stats": (
        "smsctl stats --days 1",
        "smsctl stats --from 2026-11-20 --to 2026-12-01 --signature Acme",
        "smsctl --json stats --days 30 --international",
    ),
    # --- apps --------------------------------------------------------------------------------
    "authorize": (
        "smsctl authorize list",
        "smsctl authorize template SMS_100000001 --app ios --create-app",
        "smsctl authorize resolve --scenario login --app ios",
    ),
    "authorize signature": (
        "smsctl authorize signature Acme --app ios",
        "smsctl authorize signature Acme --app ios --app android --create-app",
    ),
    "authorize template": (
        "smsctl authorize template SMS_100000001 --app ios",
        "smsctl authorize template welcome --channel email --app web --create-app",
    ),
    "authorize rule": ("smsctl authorize rule order-shipped --app ios",),
    "authorize revoke": (
        "smsctl authorize revoke template SMS_100000001 --app ios",
        "smsctl authorize revoke signature Acme --app android",
    ),
    "authorize list": ("smsctl authorize list", "smsctl authorize list --app ios --channel sms"),
    "authorize resolve": (
        "smsctl authorize resolve --scenario login --app ios",
        "smsctl authorize resolve --scenario alert --channel voice",
    ),
    # --- voice -------------------------------------------------------------------------------
    "voice": (
        "smsctl voice account add prod --access-key-id LTAI5tExampleKeyId01",
        "smsctl voice send-test --to 13800138000 --scenario alert --param code=4711 --wait 60",
    ),
    "voice template": (
        "smsctl voice template list",
        "smsctl voice template add TTS_100000001 --account prod --scenario login"
        " --content 'Your code is ${code}'",
    ),
    "voice template add": (
        "smsctl voice template add TTS_100000001 --account prod --scenario login"
        " --content 'Your code is ${code}'",
        "smsctl voice template add 0bd1a7f3-prompt.wav --account prod --scenario alert"
        " --voice-file",
    ),
    "voice template list": ("smsctl voice template list", "smsctl voice template list --json"),
    "voice template render": ("smsctl voice template render TTS_100000001 --param code=4711",),
    "voice template edit": (
        "smsctl voice template edit TTS_100000001 --scenario register",
        "smsctl voice template edit TTS_100000001 --content 'Your code: ${code}'",
    ),
    "voice template sync": ("smsctl voice template sync",),
    **_item_examples("voice ", "template", "TTS_100000001"),
    "voice send-test": (
        "smsctl voice send-test --to 13800138000 --scenario login --param code=4711 --dry-run",
        "smsctl voice send-test --to 13800138000 --scenario alert --param code=4711 --wait 90",
    ),
    "voice call-result": (
        "smsctl voice call-result --call-id 116012354148^10281378",
        "smsctl voice call-result --call-id 116012354148^10281378 --date 2026-12-01",
    ),
    # --- email -------------------------------------------------------------------------------
    "email": (
        "smsctl email account add mail --host smtp.example.com --port 465 --security ssl"
        " --username noreply@example.com --from noreply@example.com",
        "smsctl email send-test --to you@example.com --scenario register --param name=Ada",
    ),
    "email template": (
        "smsctl email template list",
        "smsctl email template add welcome --scenario register --subject 'Welcome, ${name}'"
        " --html welcome.html",
    ),
    "email template add": (
        "smsctl email template add welcome --scenario register --subject 'Welcome, ${name}'"
        " --html welcome.html",
        "smsctl email template add reset --scenario reset-password --subject 'Reset'"
        " --html reset.html --text reset.txt --account mail",
    ),
    "email template list": ("smsctl email template list", "smsctl email template list --json"),
    "email template render": ("smsctl email template render welcome --param name=Ada",),
    "email template edit": (
        "smsctl email template edit welcome --subject 'Hello, ${name}'",
        "smsctl email template edit welcome --html welcome.html --generate-text",
    ),
    **_item_examples("email ", "template", "welcome"),
    "email send-test": (
        "smsctl email send-test --to you@example.com --scenario register --param name=Ada"
        " --dry-run",
        "smsctl email send-test --to you@example.com --template welcome --param name=Ada --yes",
    ),
    # --- wechat ------------------------------------------------------------------------------
    "wechat": (
        "smsctl wechat account add official --app-id wx1234567890abcdef",
        "smsctl wechat template list official",
    ),
    "wechat template": ("smsctl wechat template list official",),
    "wechat template list": (
        "smsctl wechat template list official",
        "smsctl --json wechat template list official",
    ),
    "wechat rule": (
        "smsctl wechat rule list",
        "smsctl wechat rule add order-shipped --account official --template-id TPL_ID"
        " --var 'thing1=${order}' --scenario notification",
    ),
    "wechat rule add": (
        "smsctl wechat rule add order-shipped --account official --template-id TPL_ID"
        " --var 'thing1=${order}' --scenario notification",
    ),
    "wechat rule list": ("smsctl wechat rule list", "smsctl wechat rule list --account official"),
    "wechat rule edit": (
        "smsctl wechat rule edit order-shipped --url https://example.com/orders",
        "smsctl wechat rule edit order-shipped --default",
    ),
    **_item_examples("wechat ", "rule", "order-shipped"),
    "wechat send-test": (
        "smsctl wechat send-test --openid oABC123 --rule order-shipped --var order=A-1001"
        " --dry-run",
        "smsctl wechat send-test --openid oABC123 --scenario notification --var order=A-1001 --yes",
    ),
    # --- operations --------------------------------------------------------------------------
    "doctor": ("smsctl doctor", "smsctl doctor --channel sms --offline", "smsctl --json doctor"),
    "log": (
        "smsctl log --limit 20",
        "smsctl log --since 2h --sends",
        "smsctl --json log --channel sms --since today",
    ),
    "config": ("smsctl config path", "smsctl config show", "smsctl config check"),
    "config path": ("smsctl config path",),
    "config show": ("smsctl config show", "smsctl --json config show --no-secrets"),
    "config check": ("smsctl config check", "smsctl --config ./staging.toml config check"),
    "sandbox": ("smsctl sandbox try", "smsctl sandbox serve"),
    "sandbox serve": (
        "smsctl sandbox serve",
        "smsctl --json sandbox serve --port 0 --mailbox ./mail",
    ),
    "completion": (
        "smsctl completion --install",
        "smsctl completion zsh --install",
        "smsctl completion fish > ~/.config/fish/completions/smsctl.fish",
    ),
    "sandbox try": ("smsctl sandbox try", "smsctl sandbox try --keep ./walkthrough"),
}


def epilog(path: tuple[str, ...]) -> str | None:
    """The Examples section of a command's --help, unwrapped (Click keeps a `\\b` paragraph)."""
    lines = EXAMPLES.get(" ".join(path))
    if not lines:
        return None
    return "\b\nExamples:\n" + "\n".join(f"  $ {line}" for line in lines)
