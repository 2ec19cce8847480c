"""moto_server with its backends serialised.

moto's backends are not thread-safe: under concurrent requests a
DynamoDB TransactWriteItems (which deep-copies the tables to roll back)
fails with "dictionary changed size during iteration". Real AWS is
concurrent; the local stack only needs each request to see a consistent
backend, so requests run one at a time, except SQS long polls
(ReceiveMessage), which wait without touching shared state for most of
their time and would otherwise block everything.

moto's TransactWriteItems also deep-copies every table it touches to be
able to roll back, which makes each transaction cost as much as the whole
table: a few thousand items in, the local stack crawls. Since requests are
serialised here, the transaction is replaced by an equivalent one: check
every condition first (DynamoDB forbids two actions on one item, so the
order of checks does not matter), and only if all hold, apply the actions,
keeping a copy of just the touched items to restore if applying fails.
The replacement emits the table's stream records (the outbox relay's
source) once all actions are applied, one per item, none for a
transaction cancelled or rolled back; only outbox items' records are kept
(patch_streams).

And moto answers a Query on the table's key by sorting every item of the
table; the launcher narrows that to the queried partition.

Usage: python moto_serial.py HOST PORT
"""

import logging
import os
import signal
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

try:
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
except ImportError:  # older moto
    MotoRequestHandler = None

LOCK = threading.Lock()


def patch_queries():
    from moto.dynamodb.models.table import Table

    original_query = Table.query
    original_all_items = Table.all_items

    def all_items(self):
        part = getattr(self, "_serial_partition", None)
        if part is None:
            return original_all_items(self)
        found = self.items.get(part)
        if found is None:
            return []
        items = list(found.values()) if self.range_key_attr else [found]
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs["index_name"] if "index_name" in kwargs else (args[6] if len(args) > 6 else None)
        if index_name or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        self._serial_partition = hash_key
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            self._serial_partition = None

    Table.all_items = all_items
    Table.query = query


def patch_transactions():
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    def transact_write_items(self, transact_items):
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        seen = set()
        plan = []
        errors = []
        for item in transact_items:
            if len(list(item.keys())) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            table = self.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            ident = (str(table_name), str(dict(sorted(key.items()))))
            if ident in seen:
                raise MultipleTransactionsException()
            seen.add(ident)
            current = self.get_item(table_name, key)
            original_item = None
            condition = op.get("ConditionExpression")
            if condition is not None:
                check = get_filter_expression(
                    condition,
                    op.get("ExpressionAttributeNames"),
                    op.get("ExpressionAttributeValues"),
                )
                if not check.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    errors.append(("ConditionalCheckFailed", "The conditional request failed", original_item))
                    continue
            errors.append((None, None, None))
            plan.append((op_type, op, table_name, key, copy.deepcopy(current)))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        # Stream records are emitted once the whole transaction is applied,
        # one per item written (as DynamoDB does): a transaction rolled back
        # below emits none, so no stream consumer ever sees a write that
        # did not happen (an outbox item of a cancelled change).
        shards = {}
        for _, _, table_name, _, _ in plan:
            table = self.get_table(table_name)
            if table.stream_shard is not None:
                shards[table_name] = table.stream_shard
                table.stream_shard = None
        done = []
        try:
            for op_type, op, table_name, key, before in plan:
                kwargs = dict(
                    condition_expression=op.get("ConditionExpression"),
                    expression_attribute_names=op.get("ExpressionAttributeNames"),
                    expression_attribute_values=op.get("ExpressionAttributeValues"),
                )
                if op_type == "Put":
                    self.put_item(table_name, op["Item"], **kwargs)
                elif op_type == "Delete":
                    self.delete_item(table_name, key, **kwargs)
                elif op_type == "Update":
                    self.update_item(table_name, key, update_expression=op["UpdateExpression"], **kwargs)
                done.append((table_name, key, before))
        except Exception:
            for table_name, key, before in reversed(done):
                try:
                    if before is None:
                        self.delete_item(table_name, key)
                    else:
                        self.put_item(table_name, before.to_json()["Attributes"])
                except Exception:
                    pass
            raise
        finally:
            for table_name, shard in shards.items():
                self.get_table(table_name).stream_shard = shard
        for table_name, key, before in done:
            shard = shards.get(table_name)
            if shard is None:
                continue
            after = self.get_item(table_name, key)
            if before is not None or after is not None:
                shard.add(before, after)

    models.DynamoDBBackend.transact_write_items = transact_write_items


def patch_streams():
    """Keep on a table's stream only the records of outbox items.

    moto builds every stream record eagerly (a JSON copy of the item, to
    size it) and keeps them all: with the stream on the one table, every
    write would pay for it and the server would grow without bound. The
    template's only stream consumer (the outbox relay) filters on outbox
    items, so the others are never handed over: they are dropped here, and
    the poller still applies the filter (INSERT only) to what is left.
    """
    from moto.dynamodb.models.table import StreamShard

    original_add = StreamShard.add

    def add(self, old, new):
        item = new if new is not None else old
        kind = item.attrs.get("type") if item is not None else None
        if kind is None or kind.type != "S" or kind.value != "outbox":
            return
        original_add(self, old, new)

    StreamShard.add = add


def serial(app):
    def wrapped(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.endswith(".ReceiveMessage"):
            return app(environ, start_response)
        with LOCK:
            return list(app(environ, start_response))

    return wrapped


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    patch_transactions()
    patch_queries()
    patch_streams()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    app = DomainDispatcherApplication(create_backend_app)
    kwargs = {"threaded": True}
    if MotoRequestHandler is not None:
        kwargs["request_handler"] = MotoRequestHandler
    run_simple(host, port, serial(app), **kwargs)


if __name__ == "__main__":
    main()
