"""FAALF handler: a JSON task in, Claude Code in an ephemeral workspace, the results out.

The contract (field names kept for existing clients): request ``task``, ``execute``, ``model``,
``max_turns``, ``max_budget_usd``, ``depth``; response ``{"statusCode", "body": {...}}``.
A bad request is a 400 that names the field and starts no process; anything unexpected is a
500 with a plain message (details only in the logs, never a secret).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from faalf import agent, bedrock, children, emf, identity, process, request, response
from faalf.fence import fence, runtime_api_port
from faalf.proxy import KeyProxy
from faalf.settings import ConfigError, Settings


def service_name() -> str:
    """The logs' service: the purpose, as the stack sets it (the cost metric names the function
    instead, see ``emf``)."""
    return os.environ.get("POWERTOOLS_SERVICE_NAME") or os.environ.get(
        "AWS_LAMBDA_FUNCTION_NAME", "faalf"
    )


# First of all: the agent runs as this process's user, and this process's /proc/<pid>/environ
# holds the function role's credentials (and, later, its memory the API key). Non-dumpable, its
# /proc files are root's and ptrace is refused, in both auth modes; nor can the agent reopen
# its stdout, the log stream that carries the cost metric.
process.make_undumpable()
if os.getuid() != 0:  # as root (local runs, the tests' in-process handler) it would not hold
    process.no_message_queues()
# What the handler's own limits and scheduling are: an agent of the same uid may change them
# (prlimit, setpriority, sched_setaffinity); they are put back, or the runtime ends, after
# every run.
LIMITS = process.own_limits()
logger = Logger(service=service_name())
MIN_RUN_S = 1.0


class SecretUnavailableError(Exception):
    """The API key secret could not be read (named, with the AWS error code)."""


def end_runtime(why: str) -> None:
    """Never serve a request in a dirty container: exit, and Lambda starts a fresh one.

    The invocation in hand fails (Runtime.ExitError); its cost metric is already written (the
    proxy writes each cost as it meters it), so the cost alarm still sees what was spent.
    """
    logger.error("container not clean; ending the runtime", extra={"why": why})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(70)


def _sweep_or_end(work_root: Path) -> None:
    """Kill every process of the agent's user, put the handler's own limits back, remove the
    user's kernel objects (System V IPC, message queues, keys, /dev/shm files), empty the work
    root and put the root itself back (mode, group, attributes, ACLs, inode flags, times);
    whatever cannot be done ends the runtime, so no invocation runs in its leftovers."""
    if not process.sweep():
        end_runtime("processes of the agent's user survived repeated kills")
    changed = process.restore_limits(LIMITS)
    if changed:
        end_runtime(f"the handler's own limits were changed and cannot be put back: {changed}")
    if os.getuid() != 0 and (left_objects := process.remove_user_objects()):
        end_runtime(f"kernel objects of the agent's user could not be removed: {left_objects}")
    process.restore_work_root(work_root)  # first: a root without u+rwx cannot be emptied
    left = process.clear(work_root)
    if left:
        end_runtime(f"the work root could not be emptied: {left[:5]}")
    if changed := process.restore_work_root(work_root):
        end_runtime(f"the work root itself could not be put back: {changed[:5]}")


class Container:
    """What outlives one invocation: the key (fetched once, cached), the proxy, and whether this
    runtime has cleaned its container yet."""

    def __init__(self) -> None:
        self.proxy: KeyProxy | None = None
        self.prepared = False

    def prepare(self, work_root: Path) -> None:
        """Clean, or gone: what an invocation may find before it starts anything.

        The first invocation of a runtime cleans up after whatever ran before it (Lambda may
        keep ``/tmp`` when it resets an environment): it kills every process of its user,
        empties the work root and puts the root itself back. Later ones must find all of it as
        the last cleanup left it; anything else was made after that cleanup, by something that
        survived it.
        """
        if not self.prepared:
            _sweep_or_end(work_root)
            self._build_fence()
            self.prepared = True
            return
        others = process.strangers() if os.getuid() != 0 else []
        if others:
            end_runtime(f"{len(others)} process(es) of the agent's user are running: {others[:5]}")
        objects = process.user_objects() if os.getuid() != 0 else []
        if objects:
            end_runtime(f"kernel objects of the agent's user outlived a cleanup: {objects[:5]}")
        try:
            found = sorted(os.listdir(work_root))
        except OSError as exc:
            end_runtime(f"the work root is unreadable ({exc.strerror})")
            return
        if found:
            end_runtime(f"the work root holds what the handler did not make: {found[:5]}")
        if changed := process.work_root_changes(work_root):
            end_runtime(f"the work root itself was changed after the last cleanup: {changed[:5]}")

    @staticmethod
    def _build_fence() -> None:
        """Once per runtime, before the first agent process: what the kernel will refuse the
        agent (``fence.py``). A part the platform refuses is logged as a warning; the handler's
        other defences (the sweeps, the checks of its own limits) hold regardless."""
        status = fence().status()
        if status.runtime_api_closed:
            logger.info("agent fence built", extra=status.as_log())
        else:
            logger.warning("agent fence incomplete", extra=status.as_log())

    def clean_up(self, work_root: Path) -> None:
        """After the run: no process of the agent's user, no file of it; else end the runtime."""
        _sweep_or_end(work_root)

    def api_key(self, settings: Settings) -> str:
        process.make_undumpable()  # done at import already; kept next to the key it protects
        # Imported here, not at module level: boto3 costs ~0.4 s of cold start and the
        # Bedrock mode never needs it.
        from aws_lambda_powertools.utilities import parameters

        assert settings.api_key_secret is not None
        try:
            value = parameters.get_secret(
                settings.api_key_secret, max_age=settings.secret_max_age_s
            )
        except parameters.exceptions.GetParameterError as exc:
            # Powertools raises inside its ``except``: the botocore error is the context.
            cause = exc.__cause__ or exc.__context__
            code = getattr(cause, "response", {}).get("Error", {}).get("Code", type(cause).__name__)
            raise SecretUnavailableError(
                f"could not read the Anthropic API key secret {settings.api_key_secret!r} ({code})"
            ) from None
        if not isinstance(value, str) or not value.strip():
            raise SecretUnavailableError(
                f"secret {settings.api_key_secret!r} has no string value: put the API key in it"
            )
        return value.strip()

    def proxy_for(self, settings: Settings) -> KeyProxy:
        if self.proxy is None or self.proxy.upstream.geturl() != settings.upstream:
            if self.proxy is not None:
                self.proxy.close()
            if settings.auth_mode == "bedrock":
                signer = bedrock.Signer(settings.region)
                self.proxy = KeyProxy(settings.upstream, None, signer=signer)
            else:
                self.proxy = KeyProxy(settings.upstream, lambda: self.api_key(settings))
        return self.proxy


CONTAINER = Container()


def respond(event: object, status: int, body: dict[str, Any]) -> dict[str, Any]:
    """Direct invocations get a ``body`` object; HTTP events a JSON string body."""
    if request.is_http_event(event):
        return {
            "statusCode": status,
            "headers": {"content-type": "application/json"},
            "body": json.dumps(body),
        }
    return {"statusCode": status, "body": body}


# Never the event: it carries the caller's headers (a bearer token) and a child's cost nonce,
# whatever POWERTOOLS_LOGGER_LOG_EVENT says.
@logger.inject_lambda_context(clear_state=True, log_event=False)
def handler(event: object, context: Any) -> dict[str, Any]:
    started = time.monotonic()
    try:
        settings = Settings.from_env()
        req = request.parse(event, settings)
    except request.BadRequestError as exc:
        logger.info("bad request", extra={"error": str(exc)})
        return respond(event, 400, {"error": str(exc)})
    except ConfigError as exc:
        logger.error("function misconfigured", extra={"error": str(exc)})
        return respond(event, 500, {"error": f"function misconfigured: {exc}"})
    # The deadline leaves the margin for running scripts, cleanup and the response itself.
    deadline = started + context.get_remaining_time_in_millis() / 1000 - settings.safety_margin_s
    if deadline - started < MIN_RUN_S:
        return respond(event, 500, {"error": "not enough time left before the function timeout"})
    CONTAINER.prepare(settings.work_root)
    try:
        body = run(req, settings, deadline, context)
    except (SecretUnavailableError, identity.AgentRoleError) as exc:
        logger.error("key secret or agent role unavailable", extra={"error": str(exc)})
        return respond(event, 500, {"error": str(exc)})
    except Exception:
        logger.exception("invocation failed")
        return respond(
            event,
            500,
            {"error": f"internal error; see the logs of request {context.aws_request_id}"},
        )
    body["duration_ms"] = round((time.monotonic() - started) * 1000)
    logger.info(
        "invocation done",
        extra={k: body[k] for k in ("return_code", "cost_usd", "num_turns", "model", "duration_ms")}
        | {"claude_ms": body["claude_duration_ms"], "scripts": len(body["execution_results"])},
    )
    return response.fit(
        body,
        lambda b: respond(event, 200, b),
        settings.max_response_bytes,
        http=request.is_http_event(event),
    )


def run(
    req: request.AgentRequest, settings: Settings, deadline: float, context: Any
) -> dict[str, Any]:
    # Fail before any process starts if the key is unreadable. It also keys the cost proofs
    # between a parent's and a child's handlers (``children``), as no agent holds it; Bedrock
    # mode has no such secret, and trusts them only where the fence keeps the agent from
    # reading its event through the Runtime API.
    secret = CONTAINER.api_key(settings) if settings.auth_mode == "api-key" else None
    proofs = secret is not None or fence().status().runtime_api_closed
    proxy = CONTAINER.proxy_for(settings)  # the only door to the model, in both modes
    # The agent's identity: the agent role's for this request, or none; never the function's.
    # Its session name is random (the agent reads it; a request id answers an invocation):
    # logged here, with the request id, for CloudTrail.
    session_name = identity.session_name()
    if settings.agent_role_arn is not None:
        logger.info("agent role session", extra={"agent_session": session_name})
    creds = identity.agent_credentials(settings.agent_role_arn, session_name)
    # Where the fence cannot close the Runtime API, a connection to it made during the run is
    # the agent's: found after the sweep, it ends the runtime (``process.runtime_api_sockets``).
    # Only there: listing the sockets walks the kernel's whole TCP hash table (~3.5 ms per
    # table on the 2-core build machine), and where the fence holds no connection can be made.
    port = None if fence().status().runtime_api_closed else runtime_api_port()
    api_before = process.runtime_api_sockets(port) if port is not None else {}
    refused_before = fence().refused_connects()  # by the connect supervisor, if it runs
    try:
        ws = agent.workspace(settings.work_root)
        with proxy.session(
            settings.allowed_models,
            req.max_budget_usd,
            settings.max_output_tokens,
            # The cost metric, written by the proxy as it meters: one source, never the CLI's.
            on_spend=functools.partial(
                emf.emit_cost, context.function_name, context.aws_request_id
            ),
            depth=req.depth,
            max_depth=settings.max_depth,
            function=context.invoked_function_arn,  # children run in this very function
            child_proofs=proofs,
        ) as session:
            env = agent.claude_env(ws, req, settings, proxy.url, session.token, creds)
            cli = agent.run_claude(ws, req, settings, env, deadline)
        if session.unpriced:
            logger.error(
                "usage the proxy could not price was charged the rest of the budget",
                extra={"unpriced": session.unpriced[:5]},
            )
        # What the proxy metered (and wrote as the metric), whatever the CLI reports or whether
        # it finished at all.
        cost = round(session.spent_usd, 6)
        # For a parent's handler: all this invocation cost it, its own children included,
        # signed with the key derived from the parent's nonce and the secret (above). Without
        # it the parent charges the whole grant.
        proof = (
            children.cost_proof(
                children.cost_key(req.cost_nonce, secret),
                session.spent_usd + session.children_usd,
            )
            if req.cost_nonce is not None and proofs
            else None
        )
        runs = (
            agent.run_scripts(ws, req, settings, deadline, creds)
            if req.execute
            else agent.ScriptRuns([])
        )
    finally:
        CONTAINER.clean_up(settings.work_root)
        if port is not None:
            after = process.runtime_api_sockets(port)
            if foreign := process.foreign_runtime_api_use(api_before, after):
                end_runtime(f"the agent connected to the Lambda Runtime API: {foreign[:5]}")
    if refused := fence().refused_connects() - refused_before:
        logger.warning("the agent tried the Lambda Runtime API; the fence refused it",
                       extra={"refused_connects": refused})  # fmt: skip
    if runs.not_listed:
        logger.info("scripts not listed in the response", extra={"not_listed": runs.not_listed})
    return {
        "claude_output": cli.output,
        "claude_error": cli.error,
        "return_code": cli.finished.return_code,
        "execution_results": runs.results,
        "cost_usd": cost,
        "num_turns": cli.num_turns,
        "model": req.model,
        "session_id": cli.session_id,
        "duration_ms": 0,
        "claude_duration_ms": cli.wall_ms,
        "timed_out": cli.finished.timed_out,
        "truncated": cli.finished.stdout.truncated or cli.finished.stderr.truncated,
        "depth": req.depth,
        # Named here: fields cut to fit the response (``response.fit``) are added to it.
        "truncated_fields": ["execution_results"] if runs.not_listed else [],
    } | ({children.COST_PROOF: proof} if proof is not None else {})
