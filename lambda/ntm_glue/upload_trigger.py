"""Start one run per corpus uploaded under incoming/ (docs/starting-runs.md, "Uploading a corpus").

What counts as a corpus, by key:
- `incoming/<name><suffix>` with a corpus suffix (`CORPUS_SUFFIXES`), directly under incoming/:
  that one file is the corpus.
- `incoming/<name>/_START` (`MARKER`), at any depth: the folder holding it is the corpus.
  Files inside folders never start runs themselves; the marker, uploaded last, does.
- Settings for a corpus travel in `incoming/<name>.run.json` (`SETTINGS_SUFFIX`): the console
  input minus `corpus`/`dataset`/`source`. It sits beside the corpus, never inside it (the
  corpus file's key or the folder prefix), so the preparation stage does not read it as data.

S3 delivers events at least once, so the execution name is derived from the object's identity
(bucket, key, version or sequencer): a repeated event finds its execution already started.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ntm_glue.run_input import RunInputError, RunSettings, parse_request

INCOMING = "incoming/"
# Files that `training.prepare` reads as many documents each (JSON Lines, CSV), optionally gzipped.
# Plain text is one document per file, so it only makes sense inside a folder corpus; `.json` is
# left out because it usually holds one JSON document, and because settings files end in it.
CORPUS_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".csv", ".csv.gz")
MARKER = "_START"
SETTINGS_SUFFIX = ".run.json"
MAX_SETTINGS_BYTES = 64 * 1024
# Fields the upload decides; a settings file may not set them.
UPLOAD_DECIDES = ("corpus", "dataset", "source")
# Step Functions accepts up to 80 characters; only these stay readable in CloudWatch Logs too.
MAX_EXECUTION_NAME = 80
_DIGEST_CHARS = 16
_NOT_NAME = re.compile(r"[^a-zA-Z0-9]+")


def rule_key_patterns() -> list[str]:
    """EventBridge wildcard patterns of the keys worth a look (the Lambda decides the rest)."""
    return [f"{INCOMING}*{suffix}" for suffix in CORPUS_SUFFIXES] + [f"{INCOMING}*/{MARKER}"]


@dataclass(frozen=True)
class Upload:
    """The object an `Object Created` event names."""

    bucket: str
    key: str
    version_id: str | None
    sequencer: str | None

    @property
    def identity(self) -> str | None:
        """What tells this upload apart from an earlier one of the same key."""
        return self.version_id or self.sequencer

    def source(self) -> dict[str, str]:
        fields = {"bucket": self.bucket, "key": self.key, "version_id": self.version_id, "sequencer": self.sequencer}
        return {name: value for name, value in fields.items() if value}


@dataclass(frozen=True)
class Corpus:
    location: str  # the key (a file) or prefix (a folder, ending in "/") the run reads
    name: str  # incoming/<name>: the settings file is <name>.run.json
    is_folder: bool

    @property
    def settings_key(self) -> str:
        return f"{self.name}{SETTINGS_SUFFIX}"


@dataclass(frozen=True)
class Outcome:
    """What became of one event: `started`, `already started` or `ignored`, and why."""

    status: str
    message: str
    execution_name: str | None = None
    execution_arn: str | None = None
    execution_input: dict[str, Any] | None = None


class Ignored(Exception):
    """The upload starts nothing; the message says why."""


def corpus_of(key: str) -> Corpus:
    """The corpus an uploaded key stands for, or Ignored saying why it stands for none."""
    if not key.startswith(INCOMING):
        raise Ignored(f"it is outside {INCOMING}")
    if key.endswith(SETTINGS_SUFFIX):
        raise Ignored("it is a run settings file: it configures a corpus uploaded after it, and starts nothing itself")
    inside = key[len(INCOMING):]
    if inside.rsplit("/", 1)[-1] == MARKER:
        folder = key[: -len(MARKER)]
        if folder == INCOMING:
            raise Ignored(f"a {MARKER} marker directly under {INCOMING} would run everything there; "
                          f"put it in the corpus folder, {INCOMING}<name>/{MARKER}")
        return Corpus(folder, folder.rstrip("/"), is_folder=True)
    suffix = next((s for s in sorted(CORPUS_SUFFIXES, key=len, reverse=True) if key.endswith(s)), None)
    if suffix is None:
        raise Ignored(f"it is neither a corpus file ({', '.join(CORPUS_SUFFIXES)}) nor a {MARKER} marker")
    if "/" in inside:
        folder = key.rsplit("/", 1)[0]
        raise Ignored(f"it is inside a folder: a folder corpus starts with its marker, {folder}/{MARKER}, uploaded last")
    return Corpus(key, key[: -len(suffix)], is_folder=False)


def execution_name(upload: Upload, corpus: Corpus) -> str:
    """Readable (the corpus name) and unique per uploaded object version; at most 80 characters."""
    digest = hashlib.sha256(f"{upload.bucket}\n{upload.key}\n{upload.identity}".encode()).hexdigest()[:_DIGEST_CHARS]
    room = MAX_EXECUTION_NAME - _DIGEST_CHARS - 1
    label = _NOT_NAME.sub("-", corpus.name[len(INCOMING):]).strip("-")[-room:].strip("-") or "corpus"
    return f"{label}-{digest}"


def _object_size(s3: Any, upload: Upload) -> int:
    request = {"Bucket": upload.bucket, "Key": upload.key}
    if upload.version_id:
        request["VersionId"] = upload.version_id
    try:
        return s3.head_object(**request)["ContentLength"]
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NoSuchVersion"):
            raise Ignored("it no longer exists") from None
        raise


def read_settings(s3: Any, bucket: str, corpus: Corpus) -> dict[str, Any]:
    """The overrides in the corpus's settings file; {} when there is none."""
    where = f"settings file s3://{bucket}/{corpus.settings_key}"
    try:
        response = s3.get_object(Bucket=bucket, Key=corpus.settings_key)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "NoSuchKey":
            return {}
        raise Ignored(f"its {where} cannot be read ({code})") from None
    if response["ContentLength"] > MAX_SETTINGS_BYTES:
        raise Ignored(f"its {where} is larger than {MAX_SETTINGS_BYTES // 1024} KiB")
    try:
        settings = json.loads(response["Body"].read())
    except ValueError as error:
        raise Ignored(f"its {where} is not valid JSON ({error})") from None
    if not isinstance(settings, dict):
        raise Ignored(f"its {where} must hold a JSON object of run settings")
    decided = [field for field in UPLOAD_DECIDES if field in settings]
    if decided:
        raise Ignored(f"its {where} sets {decided[0]}: the upload itself decides where the data is")
    return settings


def build_input(upload: Upload, corpus: Corpus, settings: dict[str, Any], defaults: RunSettings) -> dict[str, Any]:
    """The execution input, checked exactly as the pipeline's first state will check it."""
    request = {"corpus": f"s3://{upload.bucket}/{corpus.location}", **settings, "source": upload.source()}
    try:
        parse_request(request, defaults, upload.bucket)
    except RunInputError as error:
        raise Ignored(f"its settings file s3://{upload.bucket}/{corpus.settings_key} is invalid: {error}") from None
    return request


def start_run(upload: Upload, *, data_bucket: str, defaults: RunSettings, state_machine_arn: str,
              s3: Any, stepfunctions: Any) -> Outcome:
    """Start the run an upload asks for, once; anything that is not a run to start is `ignored`."""
    where = f"s3://{upload.bucket}/{upload.key}"
    try:
        if upload.bucket != data_bucket:
            raise Ignored(f"it is not in the pipeline's data bucket {data_bucket}")
        corpus = corpus_of(upload.key)
        if upload.identity is None:
            raise Ignored("the event has neither a version id nor a sequencer to tell a repeat from a new upload")
        if _object_size(s3, upload) == 0 and not corpus.is_folder:
            raise Ignored("it is empty")
        request = build_input(upload, corpus, read_settings(s3, upload.bucket, corpus), defaults)
    except Ignored as reason:
        return Outcome("ignored", f"ignored {where}: {reason}")
    name = execution_name(upload, corpus)
    try:
        started = stepfunctions.start_execution(stateMachineArn=state_machine_arn, name=name,
                                                input=json.dumps(request, sort_keys=True))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
        return Outcome("already started", f"already started {name} for {where}: a repeated event starts nothing new",
                       execution_name=name)
    return Outcome("started", f"started {name} for {where}", execution_name=name,
                   execution_arn=started["executionArn"], execution_input=request)
