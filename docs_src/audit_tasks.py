"""Plain functions a web app defers (no decorator), in a module the app and the worker import."""

from __future__ import annotations

import contextvars

from asyncmq import context, propagate

# A context variable of the application's own, declared once so that jobs carry it.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("audit.request_id")
propagate(request_id)


async def audit_action(action: str) -> str:
    user = context.get("user_id")
    locale = context.get("locale", "en")
    return f"[{request_id.get('-')}] user {user} did {action} (locale {locale})"


def build_report(report_id: str) -> str:
    # A sync function: the worker runs it in a thread, with the same context.
    return f"report {report_id} for user {context.get('user_id')}"
