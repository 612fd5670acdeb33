"""Turn raw documents into the dataset NTM trains on.

    python -m training.prepare --input PATH [PATH ...] --output DIR [options]

Two passes keep memory bounded by the vocabulary and one block of documents, not by the corpus:
1. counting: worker processes read and tokenize every document; the main process adds up term
   and document frequencies and spools each document's token ids to a work folder on disk;
2. encoding: choose the vocabulary, decide which documents stay and their split, and write the
   RecordIO-protobuf files from the spool, the manifest last.
The layout written is docs/design.md section 2; docs/corpus-preparation.md has the details.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.common.cli_options import (
    add_reading_options,
    add_vocabulary_options,
    at_least,
    fraction,
    npmi_threshold,
)
from training.common.errors import JobInputError
from training.formats import dataset as layout
from training.preparation.corpus_readers import Fields, describe_inputs, discover
from training.preparation.counting import count_corpus
from training.preparation.errors import PrepareError
from training.preparation.serving_artifact import write_serving_artifact, write_smoke_test
from training.preparation.phrases import PhraseOptions, apply_phrases
from training.preparation.splits import TEST, VALIDATION, assign_splits, split_positions, train_order
from training.preparation.stop_words import user_stop_words
from training.preparation.text_terms import TextSettings
from training.preparation.token_spool import (
    SpoolReader,
    TokenSpool,
    bag_of_words,
    known_tokens,
)
from training.preparation.vocabulary import (
    TermTable,
    check_vocabulary,
    choose_vocabulary,
    read_vocabulary,
    write_vocabulary,
)

# Tokens gathered from the spool per block of the encoding pass (4 bytes each).
TOKENS_PER_BLOCK = 1 << 20
# Phrase parts are looked for among this many times --vocab-size most frequent words.
PHRASE_CANDIDATES_PER_WORD = 4


@dataclass(frozen=True)
class Shard:
    """This instance's part of a corpus prepared on several (training.preparation.scale_out)."""

    index: int
    count: int
    vocabulary: list  # chosen once from every instance's term counts

    @property
    def part_prefix(self) -> str:
        # Sorted file names follow instance order, so transform order matches documents.jsonl's.
        return f"part-{self.index:05d}-"


def text_settings(arguments: argparse.Namespace) -> TextSettings:
    """The options that decide a document's terms (phrases are added once found); reading the
    stop-word files here makes an unreadable one fail before any work."""
    return TextSettings(
        strip_headers=arguments.strip_headers,
        clean_text=arguments.clean_text,
        default_stop_words=arguments.default_stop_words,
        stop_words=user_stop_words(arguments.stop_words, arguments.stop_words_file),
    )


def _vocabulary(arguments: argparse.Namespace, table: TermTable, text: TextSettings) -> list[str]:
    if arguments.vocabulary:
        vocabulary = read_vocabulary(Path(arguments.vocabulary))
    else:
        vocabulary = choose_vocabulary(table, arguments.vocab_size, arguments.min_df, arguments.max_df, text.all_stop_words)
    check_vocabulary(vocabulary, table, arguments)
    return vocabulary


def _kept_documents(arguments: argparse.Namespace, reader: SpoolReader, columns: np.ndarray, shard: Shard | None) -> tuple:
    """The ids of the documents that stay, and how many were dropped for which reason."""
    in_vocabulary = np.zeros(reader.documents, dtype=np.int64)
    for block in reader.blocks(np.arange(reader.documents), TOKENS_PER_BLOCK):
        in_vocabulary[block] = known_tokens(reader.tokens_of(block), reader.lengths[block], columns)
    kept = in_vocabulary >= max(1, arguments.min_tokens)
    empty = reader.lengths == 0
    dropped = {"empty": int(np.count_nonzero(~kept & empty)), "too_short": int(np.count_nonzero(~kept & ~empty))}
    if not kept.any() and shard is None:
        raise PrepareError(all_dropped_message(reader.documents, dropped, arguments.min_tokens))
    return np.flatnonzero(kept), dropped


def all_dropped_message(read: int, dropped: dict, min_tokens: int) -> str:
    return (f"all {read:,} documents were dropped ({dropped['empty']:,} empty, {dropped['too_short']:,} "
            f"with fewer than --min-tokens {min_tokens} vocabulary words)")


def check_split_sizes(arguments: argparse.Namespace, counts: np.ndarray, train_files: int | None = None) -> None:
    """Every split needs a document and every train file needs one (`counts` in SPLITS order)."""
    if not counts.all():
        empty = [name for name, count in zip(layout.SPLITS, counts.tolist()) if not count]
        raise PrepareError(
            f"only {int(counts.sum())} documents were kept: train, validation and test need at least one each "
            f"(the {' and '.join(empty)} split drew none with --seed {arguments.seed}; add documents or raise its fraction)"
        )
    if counts[0] < (train_files or arguments.train_shards):
        raise PrepareError(f"{counts[0]} train documents cannot fill --train-shards {arguments.train_shards}: lower it or add documents")


def _assign_splits(arguments: argparse.Namespace, reader: SpoolReader, kept: np.ndarray, shard: Shard | None) -> tuple:
    """A split code per kept document (from its id, see training.preparation.splits), and the train
    documents' positions in their seeded random order."""
    positions = split_positions(reader.id_hashes[kept], arguments.seed)
    codes = assign_splits(positions, arguments.validation_fraction, arguments.test_fraction)
    if shard is None:
        check_split_sizes(arguments, np.bincount(codes, minlength=3))
    return codes, train_order(positions, codes)


def _write_train(output: Path, reader: SpoolReader, documents: np.ndarray, columns: np.ndarray, width: int, shards: int,
                 prefix: str) -> list[str]:
    """Deal the (shuffled) train documents round-robin into the shards: each shard mixes the whole
    corpus, which matters when the input is sorted, e.g. by label."""
    writer = layout.PartWriter(output, layout.TRAIN, prefix=prefix)
    for shard in range(shards):
        writer.new_part()
        for block in reader.blocks(documents[shard::shards], TOKENS_PER_BLOCK):
            writer.write(bag_of_words(reader.tokens_of(block), reader.lengths[block], columns, width))
    writer.close()
    return writer.files


def _write_in_order(output: Path, reader: SpoolReader, kept: np.ndarray, splits: np.ndarray, columns: np.ndarray, width: int,
                    prefix: str) -> dict:
    """transform/ (every kept document), validation/ and test/, in input order."""
    writers = {name: layout.PartWriter(output, name, layout.RECORDS_PER_PART, prefix)
               for name in (layout.TRANSFORM, layout.VALIDATION, layout.TEST)}
    done = 0
    for block in reader.blocks(kept, TOKENS_PER_BLOCK):
        rows = bag_of_words(reader.tokens_of(block), reader.lengths[block], columns, width)
        codes = splits[done : done + len(block)]
        done += len(block)
        writers[layout.TRANSFORM].write(rows)
        writers[layout.VALIDATION].write(rows[codes == VALIDATION])
        writers[layout.TEST].write(rows[codes == TEST])
    for writer in writers.values():
        writer.close()
    return {name: writer.files for name, writer in writers.items()}


def _write_documents(output: Path, reader: SpoolReader, kept: np.ndarray, splits: np.ndarray) -> None:
    """documents.jsonl: each kept document's metadata plus its split, in transform order."""
    split_of = np.full(reader.documents, -1, dtype=np.int8)
    split_of[kept] = splits
    endings = [f', "split": "{name}"}}\n' for name in layout.SPLITS]
    with open(output / layout.DOCUMENTS, "w", encoding="utf-8") as documents:
        for metadata, code in zip(reader.metadata(), split_of.tolist()):
            if code >= 0:
                documents.write(metadata[:-1] + endings[code])


def _prepare_into(arguments: argparse.Namespace, output: Path, work: Path, shard: Shard | None) -> dict:
    text = text_settings(arguments)
    input_files = discover(arguments.input)
    inputs = describe_inputs(arguments.input)
    spool = TokenSpool(work)
    table, undecodable = count_corpus(arguments, input_files, spool, allow_empty=shard is not None)
    reader = spool.reader()
    try:
        if arguments.phrases:
            options = PhraseOptions(arguments.phrase_threshold, arguments.phrase_min_count, PHRASE_CANDIDATES_PER_WORD * arguments.vocab_size)
            table, reader, pairs = apply_phrases(table, reader, work, text.all_stop_words, options, TOKENS_PER_BLOCK)
            text = dataclasses.replace(text, phrases=tuple(sorted(pairs)))
        vocabulary = shard.vocabulary if shard else _vocabulary(arguments, table, text)
        (output / layout.AUXILIARY).mkdir()
        write_vocabulary(output / layout.VOCABULARY, vocabulary)
        columns = table.columns(vocabulary)
        kept, dropped = _kept_documents(arguments, reader, columns, shard)
        splits, train_rank = _assign_splits(arguments, reader, kept, shard)
        prefix = shard.part_prefix if shard else "part-"
        # A shard writes its share of the train files: together at least --train-shards.
        train_files = min(-(-arguments.train_shards // shard.count), len(train_rank)) if shard else arguments.train_shards
        files = {layout.TRAIN: _write_train(output, reader, kept[train_rank], columns, len(vocabulary), train_files, prefix)}
        files.update(_write_in_order(output, reader, kept, splits, columns, len(vocabulary), prefix))
        _write_documents(output, reader, kept, splits)
        serving = write_serving_artifact(output, output / layout.VOCABULARY, text.to_json())
        fields = Fields(arguments.text_field, arguments.id_field, arguments.label_field)
        smoke_test = write_smoke_test(output, input_files, fields, kept.tolist())
    finally:
        reader.close()
    counts = np.bincount(splits, minlength=3)
    return {
        "format_version": 1,
        "vocabulary_size": len(vocabulary),
        "documents": {
            "read": reader.documents,
            "kept": len(kept),
            **{name: int(count) for name, count in zip(layout.SPLITS, counts)},
            "dropped": dropped,
        },
        "files": {**files, layout.AUXILIARY: [layout.VOCABULARY], "documents": layout.DOCUMENTS, layout.SERVING: serving,
                  "smoke_test": smoke_test},
        "labels": bool(reader.labelled[kept].any()),
        "options": dict(vars(arguments)),
        # Everything a consumer needs to turn a raw document into its row: text_terms.document_terms.
        "text_settings": text.to_json(),
        "inputs": inputs,
        "decode_errors": undecodable,
        **({"shard": {"index": shard.index, "count": shard.count}} if shard else {}),
    }


def prepare(arguments: argparse.Namespace, shard: Shard | None = None) -> dict:
    """Prepare the dataset into arguments.output; returns the manifest, written there last.
    With `shard`, the output is this instance's part of a corpus prepared on several."""
    output = Path(arguments.output)
    layout.clear_output(output)
    work = Path(tempfile.mkdtemp(prefix=layout.WORK_PREFIX, dir=output))
    try:
        manifest = _prepare_into(arguments, output, work, shard)
        shutil.rmtree(work)
        layout.write_manifest(output, manifest)
        return manifest
    except BaseException:
        layout.remove_dataset(output)
        raise


def add_preparation_options(parser: argparse.ArgumentParser) -> None:
    """Every option of `python -m training.prepare` (training.scale_out's encode takes them too)."""
    add_reading_options(parser)
    parser.add_argument("--output", required=True, metavar="DIR", help="folder for the dataset (new, empty, or an earlier dataset)")
    add_vocabulary_options(parser)
    parser.add_argument("--vocabulary", metavar="FILE", help="use this vocab.txt (an earlier run's, or training.term_counts') instead of choosing one")
    parser.add_argument("--min-tokens", type=at_least(0), default=10, help="drop documents with fewer vocabulary words (default 10; the AWS example dropped those with 25 or fewer)")
    parser.add_argument("--train-shards", type=at_least(1), default=8, help="train files, for ShardedByS3Key (default 8)")
    parser.add_argument("--min-train-shards", type=at_least(1), default=1, help="fail if --train-shards is lower (the pipeline passes its training instance count)")
    parser.add_argument("--validation-fraction", type=fraction, default=0.1, help="share of documents for validation (default 0.1)")
    parser.add_argument("--test-fraction", type=fraction, default=0.1, help="share of documents for test (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random split and shuffle (default 0)")
    parser.add_argument("--phrases", action="store_true", help="keep frequent word pairs (hard drive) as one term (hard-drive)")
    parser.add_argument("--phrase-threshold", type=npmi_threshold, default=0.5, help="with --phrases: least NPMI of a pair, above 0 and at most 1 (default 0.5)")
    parser.add_argument("--phrase-min-count", type=at_least(1), default=20, help="with --phrases: least occurrences of a pair (default 20)")


def check_preparation_options(parser: argparse.ArgumentParser, arguments: argparse.Namespace) -> argparse.Namespace:
    if arguments.train_shards < arguments.min_train_shards:
        parser.error(f"--train-shards {arguments.train_shards} is fewer than --min-train-shards {arguments.min_train_shards}")
    if arguments.validation_fraction + arguments.test_fraction >= 1.0:
        parser.error("--validation-fraction and --test-fraction leave nothing to train on")
    return arguments


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.prepare",
        description="Turn raw documents into NTM's dataset: vocabulary and sharded sparse RecordIO-protobuf.",
    )
    add_preparation_options(parser)
    return check_preparation_options(parser, parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    started = time.monotonic()
    try:
        manifest = prepare(arguments)
    except JobInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    counts = manifest["documents"]
    print(
        f"prepared {counts['kept']:,} of {counts['read']:,} documents (train {counts['train']:,}, "
        f"validation {counts['validation']:,}, test {counts['test']:,}; dropped {counts['dropped']}), "
        f"vocabulary {manifest['vocabulary_size']:,} words, in {time.monotonic() - started:.1f} s -> {arguments.output}"
    )
    return 0
