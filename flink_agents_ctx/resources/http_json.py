"""One JSON-over-HTTP POST with the standard library, for the OpenAI-compatible clients.

Failures become the caller's typed error with the server named and what to check: an HTTP error
status (with the start of the body), an unreachable server, an answer that is not JSON.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from flink_agents_ctx.errors import ConfigError


def endpoint_url(base_url: str, path: str, client: str) -> str:
    """``<base_url>/<path>`` for an OpenAI-compatible ``client``; a base URL that is not
    http(s) is a :class:`ConfigError` showing the expected form."""
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{client}: base_url {base_url!r} is not an http(s) URL; give the API root such as "
            "http://127.0.0.1:11434/v1",
            key="base_url",
            value=base_url,
        )
    return base_url.rstrip("/") + "/" + path


def post_json(
    url: str,
    payload: Any,
    api_key: str | None,
    timeout_s: float,
    error: type[Exception],
    what: str,
    check: str,
) -> Any:
    """POST ``payload`` as JSON to ``url`` and return the decoded answer.

    Args:
        error: the exception type to raise.
        what: the server, for messages ("the embeddings server").
        check: what to check when the server answers an error status.
    """
    try:
        body = json.dumps(payload).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise error(f"the request to {what} at {url} has no JSON form: {e}") from None
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as e:
        detail = e.read()[:300].decode("utf-8", "replace")
        raise error(f"{what} at {url} answered HTTP {e.code}: {detail}; check {check}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise error(
            f"cannot reach {what} at {url} ({reason}); check that it runs and that base_url is "
            "its API root (for example http://127.0.0.1:11434/v1)"
        ) from None
    except ValueError:
        raise error(f"{what} at {url} did not answer with JSON") from None
