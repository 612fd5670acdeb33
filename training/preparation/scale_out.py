"""One corpus prepared by the instances of SageMaker processing jobs (docs/corpus-preparation.md, "Scale").

    python -m training.scale_out count    --input CORPUS --output COUNTS [reading options]
    python -m training.scale_out encode   --input CORPUS --counts COUNTS --output DATASET --shard-output SHARDS [prepare options]
    python -m training.scale_out assemble --shards SHARDS --output DATASET [--min-train-shards N]

`count` and `encode` run on every instance of a job whose corpus input is ShardedByS3Key (each
instance reads whole files, its share of the corpus); `encode` reads every instance's count file
(FullyReplicated) and chooses the vocabulary from their sum, which is the one a single machine
would choose, as term and document frequencies add up. Each document's split depends on its id
alone (training.preparation.splits), so the shards' documents, vectors and splits are those of a
single-instance run. `assemble`, on one instance, joins the shards' document lists and manifests
into the dataset's documents.jsonl and manifest.json, written last; the shards' RecordIO files
are already in place, named part-<instance>-<k>.pbr so that sorted names follow instance order.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from training.common.cli_options import add_reading_options, at_least
from training.common.errors import JobInputError
from training.common.processing_host import RESOURCE_CONFIG, Host, this_host
from training.formats import dataset as layout
from training.preparation import prepare as single
from training.preparation.corpus_readers import InputFile, discover
from training.preparation.counting import count_corpus
from training.preparation.errors import PrepareError
from training.preparation.term_counts import read_counts, write_counts
from training.preparation.vocabulary import check_vocabulary, choose_vocabulary

_RECORD_FOLDERS = (layout.TRAIN, layout.VALIDATION, layout.TEST, layout.TRANSFORM)


def part_name(index: int) -> str:
    return f"part-{index:05d}"


def _share(arguments: argparse.Namespace, host: Host) -> list[InputFile]:
    """This instance's files; none means the corpus has fewer files than instances: refused."""
    files = discover(arguments.input)
    if not files:
        raise PrepareError(
            f"instance {host.name} ({host.index + 1} of {host.count}) received no corpus file: ShardedByS3Key hands out "
            f"whole files, so a corpus prepared on {host.count} instances needs at least {host.count} files (many more "
            "keep the instances evenly busy). Upload it as a folder of many files with a _START marker "
            "(docs/starting-runs.md, 'A folder of files'), or prepare it with preparation.instance_count 1."
        )
    return files


def count(arguments: argparse.Namespace, host: Host) -> Path:
    """Term counts of this instance's share, as <output>/part-<index>.tsv."""
    table, _ = count_corpus(arguments, _share(arguments, host), spool=None, allow_empty=True)
    output = Path(arguments.output)
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"{part_name(host.index)}.tsv"
    write_counts(path, table)
    return path


def merged_vocabulary(arguments: argparse.Namespace, counts: Path, instances: int) -> list[str]:
    """The vocabulary of the whole corpus, from every instance's count file."""
    files = sorted(counts.glob("part-*.tsv"))
    if len(files) != instances:
        raise PrepareError(f"{counts} holds {len(files)} count files, not one per instance ({instances})")
    table = read_counts(files)
    if table.documents == 0:
        raise PrepareError(f"no documents found in {', '.join(arguments.input)} (all {instances} shares are empty)")
    stop_words = single.text_settings(arguments).all_stop_words
    words = choose_vocabulary(table, arguments.vocab_size, arguments.min_df, arguments.max_df, stop_words)
    check_vocabulary(words, table, arguments)
    return words


def encode(arguments: argparse.Namespace, host: Host) -> dict:
    """This instance's share prepared with the corpus' vocabulary: its RecordIO files moved into
    --output (the dataset), its documents.jsonl and manifest left in --shard-output/part-<index>/."""
    _share(arguments, host)
    words = merged_vocabulary(arguments, Path(arguments.counts), host.count)
    dataset = Path(arguments.output)
    shard_folder = Path(arguments.shard_output) / part_name(host.index)
    manifest = single.prepare(argparse.Namespace(**{**vars(arguments), "output": str(shard_folder)}),
                              single.Shard(host.index, host.count, words))
    for folder in _RECORD_FOLDERS:
        (dataset / folder).mkdir(parents=True, exist_ok=True)
        for file in manifest["files"][folder]:
            shutil.move(str(shard_folder / file), str(dataset / file))
    return manifest


def _read_shards(shards: Path) -> list[tuple[Path, dict]]:
    folders = sorted(path for path in shards.iterdir() if path.is_dir() and path.name.startswith("part-")) if shards.is_dir() else []
    if not folders:
        raise PrepareError(f"no prepared shards (part-*/manifest.json) under {shards}")
    found = []
    for folder in folders:
        manifest_path = layout.require(folder / layout.MANIFEST, "shard manifest")
        found.append((folder, json.loads(manifest_path.read_text(encoding="utf-8"))))
    expected = found[0][1]["shard"]["count"]
    indexes = [manifest["shard"]["index"] for _, manifest in found]
    if indexes != list(range(expected)):
        raise PrepareError(f"shards {indexes} under {shards}: expected one from each of the {expected} instances")
    return found


def _sum(values: list[dict]) -> dict:
    return {key: sum(value[key] for value in values) for key in values[0]}


def assemble(arguments: argparse.Namespace) -> dict:
    """documents.jsonl, auxiliary/vocab.txt and manifest.json (last) of the whole dataset in --output."""
    shards = _read_shards(Path(arguments.shards))
    vocabulary = (shards[0][0] / layout.VOCABULARY).read_bytes()
    if any((folder / layout.VOCABULARY).read_bytes() != vocabulary for folder, _ in shards):
        raise PrepareError("the shards were prepared with different vocabularies")
    manifests = [manifest for _, manifest in shards]
    text_settings = manifests[0]["text_settings"]
    if any(manifest["text_settings"] != text_settings for manifest in manifests):
        raise PrepareError("the shards were prepared with different text settings (cleaning, stop words)")
    counts = {key: sum(m["documents"][key] for m in manifests) for key in ("read", "kept", *layout.SPLITS)}
    dropped = _sum([m["documents"]["dropped"] for m in manifests])
    options = argparse.Namespace(**manifests[0]["options"])
    if counts["kept"] == 0:
        raise PrepareError(single.all_dropped_message(counts["read"], dropped, options.min_tokens))
    files = {folder: [file for m in manifests for file in m["files"][folder]] for folder in _RECORD_FOLDERS}
    single.check_split_sizes(options, np.array([counts[name] for name in layout.SPLITS]), len(files[layout.TRAIN]))
    if len(files[layout.TRAIN]) < arguments.min_train_shards:
        raise PrepareError(f"{len(files[layout.TRAIN])} train files, fewer than --min-train-shards {arguments.min_train_shards}")
    output = Path(arguments.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / layout.AUXILIARY).mkdir(exist_ok=True)
    (output / layout.VOCABULARY).write_bytes(vocabulary)
    with open(output / layout.DOCUMENTS, "wb") as documents:
        for folder, _ in shards:
            with open(folder / layout.DOCUMENTS, "rb") as part:
                shutil.copyfileobj(part, documents, 1 << 20)
    manifest = {
        "format_version": 1,
        "vocabulary_size": manifests[0]["vocabulary_size"],
        "documents": {**counts, "dropped": dropped},
        "files": {**files, layout.AUXILIARY: [layout.VOCABULARY], "documents": layout.DOCUMENTS},
        "labels": any(m["labels"] for m in manifests),
        "options": {**manifests[0]["options"], "output": str(output)},
        # The same settings as every shard's: a raw document's row is rebuilt from them (text_terms).
        "text_settings": text_settings,
        "inputs": [described for m in manifests for described in m["inputs"]],
        "decode_errors": sum(m["decode_errors"] for m in manifests),
        "preparation_instances": len(manifests),
    }
    layout.write_manifest(output, manifest)
    return manifest


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.scale_out", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    counting = commands.add_parser("count", help="count the terms of this instance's share of the corpus")
    add_reading_options(counting)
    counting.add_argument("--output", required=True, metavar="DIR", help="folder for this instance's count file")
    encoding = commands.add_parser("encode", help="prepare this instance's share with the merged vocabulary")
    single.add_preparation_options(encoding)
    encoding.add_argument("--counts", required=True, metavar="DIR", help="every instance's count file")
    encoding.add_argument("--shard-output", required=True, metavar="DIR", help="folder for this instance's documents.jsonl and manifest")
    for command in (counting, encoding):
        command.add_argument("--resource-config", default=RESOURCE_CONFIG, metavar="FILE", help=f"which instance this is (default {RESOURCE_CONFIG})")
    assembling = commands.add_parser("assemble", help="join the shards into one dataset")
    assembling.add_argument("--shards", required=True, metavar="DIR", help="the encode step's shard folders")
    assembling.add_argument("--output", required=True, metavar="DIR", help="the dataset folder (its RecordIO files are already there)")
    assembling.add_argument("--min-train-shards", type=at_least(1), default=1, help="fail with fewer train files (the training instance count)")
    arguments = parser.parse_args(argv)
    if arguments.command != "encode":
        return arguments
    if arguments.phrases:
        # Phrases are chosen from the whole corpus' pair counts and change every term count: that
        # needs rounds of jobs this path does not run (docs/corpus-preparation.md).
        encoding.error("--phrases is not available on several instances: prepare the corpus on one (python -m training.prepare)")
    return single.check_preparation_options(encoding, arguments)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        if arguments.command == "assemble":
            manifest = assemble(arguments)
            counts = manifest["documents"]
            print(f"assembled {manifest['preparation_instances']} shards: {counts['kept']:,} of {counts['read']:,} documents "
                  f"(train {counts['train']:,}, validation {counts['validation']:,}, test {counts['test']:,}) -> {arguments.output}")
            return 0
        host = this_host(arguments.resource_config)
        if arguments.command == "count":
            print(f"{host.name}: counted -> {count(arguments, host)}")
        else:
            counts = encode(arguments, host)["documents"]
            print(f"{host.name}: prepared {counts['kept']:,} of {counts['read']:,} documents of its share -> {arguments.output}")
    except JobInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
