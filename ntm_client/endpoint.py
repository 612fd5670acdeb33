"""Calls to the endpoint: one JSON request per batch, throttling retried with exponential backoff."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

# Worth another try after a pause; anything else is the request's own fault, or the model's.
RETRYABLE = {"ThrottlingException", "ServiceUnavailable", "InternalFailure", "ModelNotReadyException"}


class EndpointError(Exception):
    """A request failed for good; `code` is the service's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class TopicEndpoint:
    def __init__(self, runtime: Any, sagemaker: Any, name: str, *, attempts: int = 6, base_delay: float = 0.5,
                 sleep: Callable[[float], None] | None = None) -> None:
        self._runtime, self._sagemaker, self.name = runtime, sagemaker, name
        self._attempts, self._base_delay, self._sleep = attempts, base_delay, sleep or time.sleep
        self.requests = 0
        self.bytes_sent = 0
        self.retries = 0

    def require_in_service(self) -> None:
        """Fail the run early, with the endpoint's own status, if it cannot answer."""
        try:
            description = self._sagemaker.describe_endpoint(EndpointName=self.name)
        except ClientError as error:
            raise EndpointError(error.response["Error"]["Code"], error.response["Error"]["Message"]) from None
        status = description["EndpointStatus"]
        if status != "InService":
            reason = f" ({description['FailureReason']})" if description.get("FailureReason") else ""
            raise EndpointError("EndpointNotInService", f"endpoint {self.name} is {status}{reason}, not InService")

    def topic_weights(self, body: bytes) -> list[list[float]]:
        """NTM's topic weights per instance of a `{"instances": [...]}` body, in order."""
        for attempt in range(1, self._attempts + 1):
            self.requests += 1
            self.bytes_sent += len(body)
            try:
                response = self._runtime.invoke_endpoint(EndpointName=self.name, ContentType="application/json",
                                                         Accept="application/json", Body=body)
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if code in RETRYABLE and attempt < self._attempts:
                    self.retries += 1
                    # Full jitter: clients throttled together do not come back together.
                    self._sleep(random.uniform(0, self._base_delay * 2 ** (attempt - 1)))
                    continue
                raise EndpointError(code, error.response["Error"].get("Message", "")) from None
            predictions = json.loads(response["Body"].read())["predictions"]
            return [prediction["topic_weights"] for prediction in predictions]
        raise AssertionError("unreachable")
