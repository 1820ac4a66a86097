"""The everyday commands: accounts, publish, preview, status, flush, and per-delivery actions."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import webbrowser
from pathlib import Path
from typing import Any

from staffetta.cli import output
from staffetta.core.channel import Authorization, Channel
from staffetta.core.errors import InputError
from staffetta.core.http import new_http_client
from staffetta.core.model import State
from staffetta.core.postfile import read_post_file
from staffetta.runtime import Runtime

EXIT_OK, EXIT_NEEDS_YOU = 0, 4


def register(sub: Any) -> None:
    accounts = sub.add_parser("accounts", help="connect, list, test and remove accounts")
    acc = accounts.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)

    add = acc.add_parser("add", help="connect an account", description=_channels_help())
    add.add_argument("channel", help="channel name, e.g. mastodon or static_site")
    add.add_argument("--name", help="a name for the account (default: the handle)")
    add.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a setting such as instance_url=https://mastodon.social (repeatable)",
    )
    _secret_options(add)
    add.add_argument(
        "--no-verify",
        action="store_true",
        help="store without testing the connection (e.g. while offline)",
    )
    add.add_argument("--json", action="store_true", help="print the account as JSON")
    add.set_defaults(handler=cmd_accounts_add)

    lst = acc.add_parser("list", help="list connected accounts")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_accounts_list)

    test = acc.add_parser("test", help="test an account's connection and credentials")
    test.add_argument("account")
    test.set_defaults(handler=cmd_accounts_test)

    reconnect = acc.add_parser("reconnect", help="give an account new credentials and resume it")
    reconnect.add_argument("account")
    _secret_options(reconnect)
    reconnect.set_defaults(handler=cmd_accounts_reconnect)

    remove = acc.add_parser("remove", help="remove an account and its keyring entry")
    remove.add_argument("account")
    remove.set_defaults(handler=cmd_accounts_remove)

    publish = sub.add_parser("publish", help="queue a Markdown post for one or more accounts")
    publish.add_argument("file", type=Path, help="Markdown file with optional front matter")
    publish.add_argument("--to", required=True, metavar="ACCOUNT[,ACCOUNT…]")
    publish.add_argument("--json", action="store_true")
    publish.set_defaults(handler=cmd_publish)

    preview = sub.add_parser("preview", help="show counts, limits and problems per account")
    preview.add_argument("file", type=Path)
    preview.add_argument("--to", required=True, metavar="ACCOUNT[,ACCOUNT…]")
    preview.add_argument("--json", action="store_true")
    preview.set_defaults(handler=cmd_preview)

    status = sub.add_parser("status", help="every delivery's state and every platform's health")
    status.add_argument("--json", action="store_true")
    status.add_argument("--all", action="store_true", help="include sent and cancelled ones")
    status.set_defaults(handler=cmd_status)

    flush = sub.add_parser("flush", help="send what is due now (with --wait: until done)")
    flush.add_argument(
        "--wait",
        action="store_true",
        help="keep going through retries and outages until everything is sent or needs you",
    )
    flush.add_argument("--quiet", action="store_true", help="print only the summary")
    flush.set_defaults(handler=cmd_flush)

    for name, help_text, handler in (
        ("retry", "try a delivery again now", cmd_retry),
        ("cancel", "never send a delivery", cmd_cancel),
    ):
        action = sub.add_parser(name, help=help_text)
        action.add_argument("delivery", type=int)
        action.set_defaults(handler=handler)

    resolve = sub.add_parser("resolve", help="decide an unconfirmed delivery")
    resolve.add_argument("delivery", type=int)
    choice = resolve.add_mutually_exclusive_group(required=True)
    choice.add_argument("--went-out", action="store_true", help="it is on the platform")
    choice.add_argument("--send-again", action="store_true", help="it is not: send it again")
    resolve.set_defaults(handler=cmd_resolve)

    assisted = sub.add_parser(
        "assisted",
        help="your turn on an assisted channel: show what to post, then say posted or skip",
        description="Without --posted or --skip, prints the text to paste and where to post it.",
    )
    assisted.add_argument("delivery", type=int)
    decision = assisted.add_mutually_exclusive_group()
    decision.add_argument("--posted", action="store_true", help="you posted it yourself")
    decision.add_argument("--skip", action="store_true", help="you will not post it")
    assisted.add_argument("--url", default="", help="with --posted: the link to your post")
    assisted.set_defaults(handler=cmd_assisted)


def _secret_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--secret-stdin", action="store_true", help="read the token/password from standard input"
    )
    group.add_argument(
        "--secret-env", metavar="VAR", help="read the token/password from this environment variable"
    )
    # Not exclusive with the two above: a browser sign-in with the user's own developer app may
    # need the app's client secret, given the same way (it goes to the sign-in only).
    parser.add_argument(
        "--browser",
        action="store_true",
        help="sign in through the system browser (OAuth), where supported",
    )


def _channels_help() -> str:
    from staffetta.channels.registry import load_channels

    lines = ["Channels and their settings (--set FIELD=VALUE; secrets via stdin/env):"]
    for channel in load_channels().values():
        fields = ", ".join(
            f"{f.name}{'' if f.required else '?'}{' (secret)' if f.secret else ''}"
            for f in channel.fields
        )
        lines.append(f"  {channel.name}: {channel.label} — {fields or 'no settings'}")
    return "\n".join(lines)


def _typed_secret(channel: Channel, secret: str | None) -> dict[str, str]:
    """A secret given with --browser is for the sign-in itself (an app secret): ``authorize``
    gets it under the channel's secret field; only what the sign-in returns is stored."""
    name = next((f.name for f in channel.fields if f.secret), "")
    return {name: secret} if secret and name else {}


def _read_secret(args: argparse.Namespace) -> str | None:
    if args.secret_env:
        value = os.environ.get(args.secret_env)
        if not value:
            raise InputError(f"The environment variable {args.secret_env} is empty or not set.")
        return value.strip()
    if args.secret_stdin:
        value = sys.stdin.readline()
        if not value.strip():
            raise InputError("Nothing was read from standard input for the secret.")
        return value.strip()
    return None


def _settings(pairs: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set takes FIELD=VALUE, got '{pair}'.")
        settings[key.strip()] = value.strip()
    return settings


def _account_ids(runtime: Runtime, to: str) -> list[str]:
    ids = [part.strip() for part in to.split(",") if part.strip()]
    if not ids:
        raise InputError("--to needs at least one account id (see: staffetta accounts list).")
    for account_id in ids:
        runtime.account(account_id)
    return ids


# --- accounts -----------------------------------------------------------------------------------


def cmd_accounts_add(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        settings = _settings(args.set)
        channel = runtime.channels.get(args.channel)
        if channel is None:
            known = ", ".join(sorted(runtime.channels))
            raise InputError(f"Unknown channel '{args.channel}'. Channels: {known}.")

        async def connect() -> Any:
            async with new_http_client() as http:
                secret = _read_secret(args)
                if args.browser:
                    authorization = await channel.authorize(
                        http, {**settings, **_typed_secret(channel, secret)}, webbrowser.open
                    )
                    settings.update(authorization.settings)
                    secret = authorization.secret
                name = args.name or settings.get("handle") or args.channel
                return await runtime.connect(
                    http, args.channel, name, settings, secret, verify=not args.no_verify
                )

        account = asyncio.run(connect())
        if args.json:
            print(json.dumps(output.account_json(account), indent=2))
        else:
            print(f"Connected {account.id}: {channel.label} {account.settings.get('handle', '')}")
        return EXIT_OK
    finally:
        runtime.close()


def cmd_accounts_list(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        accounts = runtime.store.accounts()
        if args.json:
            print(json.dumps([output.account_json(a) for a in accounts], indent=2))
        elif not accounts:
            print(
                "No accounts yet. Add one with: staffetta accounts add static_site "
                "--set folder=~/site/content/posts"
            )
        else:
            for account in accounts:
                print(output.account_line(account, runtime.channel_for(account).label))
        return EXIT_OK
    finally:
        runtime.close()


def cmd_accounts_test(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        account = runtime.account(args.account)
        label = runtime.channel_for(account).label

        async def test() -> str:
            async with new_http_client() as http:
                return await runtime.verify_account(http, account.id)

        handle = asyncio.run(test())
        print(f"{account.id}: OK — {label} {handle}")
        return EXIT_OK
    finally:
        runtime.close()


def cmd_accounts_reconnect(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        account = runtime.account(args.account)
        channel = runtime.channel_for(account)

        async def reconnect() -> None:
            async with new_http_client() as http:
                typed = _read_secret(args)
                credentials: str | Authorization | None = typed
                if args.browser:
                    # Not given again: the stored secret stands in (e.g. it holds the app secret).
                    known = typed or runtime.secrets.get(account.id)
                    credentials = await channel.authorize(
                        http, {**account.settings, **_typed_secret(channel, known)}, webbrowser.open
                    )
                await runtime.reconnect(http, account.id, credentials)

        asyncio.run(reconnect())
        print(f"{account.id}: reconnected; its waiting posts are queued again.")
        return EXIT_OK
    finally:
        runtime.close()


def cmd_accounts_remove(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        runtime.disconnect(args.account)
        print(f"Removed {args.account} and its keyring entry; its unsent posts were cancelled.")
        return EXIT_OK
    finally:
        runtime.close()


# --- posts --------------------------------------------------------------------------------------


def cmd_publish(args: argparse.Namespace) -> int:
    post = read_post_file(args.file)
    runtime = Runtime.open()
    try:
        ids = _account_ids(runtime, args.to)
        blocking = []
        for account_id in ids:
            account = runtime.account(account_id)
            preview = runtime.channel_for(account).preview(post, account)
            blocking += [f"{account_id}: {p.message}" for p in preview.problems if p.blocking]
        if blocking:
            raise InputError("Not queued — fix these first:\n  " + "\n  ".join(blocking))
        post_id = runtime.queue(post, ids)
        deliveries = runtime.store.deliveries(post_id=post_id)
        if args.json:
            print(
                json.dumps(
                    {
                        "post_id": post_id,
                        "deliveries": [output.delivery_json(runtime, d) for d in deliveries],
                    },
                    indent=2,
                )
            )
        else:
            when = (
                "scheduled" if deliveries and deliveries[0].state is State.SCHEDULED else "queued"
            )
            print(
                f"Post {post_id} {when} for {', '.join(ids)}. "
                f"Run 'staffetta flush' (or keep the app open) to send it."
            )
        return EXIT_OK
    finally:
        runtime.close()


def cmd_preview(args: argparse.Namespace) -> int:
    post = read_post_file(args.file)
    runtime = Runtime.open()
    try:
        previews = []
        for account_id in _account_ids(runtime, args.to):
            account = runtime.account(account_id)
            channel = runtime.channel_for(account)
            preview = channel.preview(post, account)
            suggested = output.suggested_split(channel, post, account, preview)
            previews.append((account, preview, suggested))
        if args.json:
            found = [output.preview_json(a, p, s) for a, p, s in previews]
            print(json.dumps(found, indent=2, ensure_ascii=False))
        else:
            for account, preview, suggested in previews:
                print(output.preview_text(account, preview, suggested))
        return EXIT_OK
    finally:
        runtime.close()


# --- the outbox ---------------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        report = output.status_json(runtime, include_finished=args.all)
        if args.json:
            print(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            print(output.status_text(report))
        return EXIT_OK
    finally:
        runtime.close()


def cmd_flush(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        progress = output.Progress(runtime, quiet=args.quiet)

        async def flush() -> None:
            async with new_http_client() as http:
                engine = runtime.engine(http, on_event=progress.on_event)
                await engine.flush(wait=args.wait)

        asyncio.run(flush())
        progress.finish()
        counts = runtime.store.counts()
        needs_you = sum(n for state, n in counts.items() if state.needs_user)
        return EXIT_NEEDS_YOU if args.wait and needs_you else EXIT_OK
    finally:
        runtime.close()


def _delivery_action(delivery_id: int, action: str) -> int:
    runtime = Runtime.open()
    try:
        delivery = runtime.store.delivery(delivery_id)
        store = runtime.store
        done = {
            "retry": lambda: store.retry_now(delivery_id),
            "cancel": lambda: store.cancel(delivery_id),
            "went_out": lambda: store.resolve_unconfirmed(delivery_id, went_out=True),
            "send_again": lambda: store.resolve_unconfirmed(delivery_id, went_out=False),
        }[action]()
        if not done:
            raise InputError(
                f"Delivery {delivery_id} is {delivery.state.value.replace('_', ' ')}; "
                f"'{action.replace('_', ' ')}' does not apply."
            )
        print(f"Delivery {delivery_id}: {runtime.store.delivery(delivery_id).state.value}")
        return EXIT_OK
    finally:
        runtime.close()


def cmd_retry(args: argparse.Namespace) -> int:
    return _delivery_action(args.delivery, "retry")


def cmd_cancel(args: argparse.Namespace) -> int:
    return _delivery_action(args.delivery, "cancel")


def cmd_resolve(args: argparse.Namespace) -> int:
    return _delivery_action(args.delivery, "went_out" if args.went_out else "send_again")


def cmd_assisted(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        delivery = runtime.store.delivery(args.delivery)
        if args.url and not args.posted:
            raise InputError("--url goes with --posted (the link to the post you made).")
        if args.posted or args.skip:
            if not runtime.store.confirm_assisted(delivery.id, posted=args.posted, url=args.url):
                raise InputError(
                    f"Delivery {delivery.id} is {delivery.state.value.replace('_', ' ')}, not "
                    f"waiting for you to post it."
                )
            state = runtime.store.delivery(delivery.id).state
            print(f"Delivery {delivery.id}: {state.value}; the next posts for its account follow.")
            return EXIT_OK
        account = runtime.account(delivery.account_id)
        handover = runtime.channel_for(account).handover(
            runtime.store.post(delivery.post_id), account
        )
        if handover is None:
            raise InputError(f"Delivery {delivery.id} goes to {account.id}, which Staffetta posts "
                             f"to by itself.")  # fmt: skip
        if delivery.state is not State.YOUR_TURN:
            print(f"(Delivery {delivery.id} is {delivery.state.value.replace('_', ' ')}; its "
                  f"turn has not come.)", file=sys.stderr)  # fmt: skip
        print(handover.text)
        print()
        print(f"Post it on {handover.destination}: {handover.open_url}")
        if handover.image:
            print(f"Image: {handover.image}")
        print(f"Then: staffetta assisted {delivery.id} --posted [--url LINK]   (or --skip)")
        return EXIT_OK
    finally:
        runtime.close()
