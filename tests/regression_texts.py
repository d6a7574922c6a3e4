"""What the regression catalogue expects of the plugin, case by case (pure data).

The failure texts each broken query of ``regression_cases.py`` must show (and must not),
the runs the guard must flag, and the known gaps: what the plugin should say but does
not yet, asserted by ``test_regressions.py`` under a strict xfail. The texts are the
plugin's own words for the cause it found in a real plan, copied from real runs on
PostgreSQL 15 and 18, which print these conditions alike.
"""

from __future__ import annotations

# What each broken query's failure must say: "both" forms, or only the "target" form
# (the QuerySet's SELECT) or the "block" form (the query as code runs it).
EXPECT: dict[str, dict[str, tuple[str, ...]]] = {
    "iexact": {
        "both": (
            "book_customer_status_idx is btree (customer_id, status).",
            "the Index Cond searched customer_id; left to the Filter: status.",
            "    Filter: (upper((status)::text) = 'OPEN'::text)",
            "Hint: status: upper() on the column, \"upper((status)::text) = 'OPEN'::text\", is"
            " checked row by row: the index holds status itself. Index the expression,"
            ' models.Index(Upper("status"), name="book_status_upper_idx"), or filter on the'
            " plain column.",
        ),
    },
    "lower": {
        "both": (
            "the Index Cond searched customer_id; left to the Filter: status.",
            "    Filter: (lower((status)::text) = 'open'::text)",
            'Index the expression, models.Index(Lower("status"), name="book_status_lower_idx"),'
            " or filter on the plain column.",
        ),
    },
    "startswith": {
        # Every column selected: a whole-index read would deliver neither an order nor an
        # index-only answer, so the planner has no index path and forced mode leaves a Seq
        # Scan; the fix comes as the verified suggestion.
        "target": (
            "Seq Scan on shop_book  <-- sequential scan, not book_isbn_idx",
            "      Filter: ((isbn)::text ~~ 'isbn 0001%'::text)",
            "Suggestion (tried: PostgreSQL searched it when it was created inside the rolled-back"
            " savepoint, on this test's data (an Index Cond on it: proof the planner can use it,"
            " not that it is faster); check it at production volume)",
            '    models.Index(fields=["isbn"], name="book_isbn_like_idx",'
            ' opclasses=["varchar_pattern_ops"])',
        ),
        # COUNT(*): the index is read whole into a bitmap and every row filtered.
        "block": (
            "the Index Cond searched none; left to the Filter: isbn.",
            "Hint: isbn: LIKE (startswith) in \"(isbn)::text ~~ 'isbn 0001%'::text\" is checked"
            " row by row: a plain btree cannot search a LIKE prefix under the database's"
            ' collation. Add one with the pattern opclass, models.Index(fields=["isbn"],'
            ' name="book_isbn_like_idx", opclasses=["varchar_pattern_ops"])',
        ),
    },
    "contains": {
        "target": (
            "Seq Scan on shop_book  <-- sequential scan, not book_isbn_idx",
            "No index suggested for shop_book: the pattern starts with a wildcard",
            "no btree can serve it (a trigram index, pg_trgm's gin_trgm_ops, can).",
        ),
        "block": (
            "the Index Cond searched none; left to the Filter: isbn.",
            "Hint: isbn: the pattern in \"(isbn)::text ~~ '%0001%'::text\" starts with a"
            " wildcard, so no btree can search it. A trigram index can:"
            ' GinIndex(fields=[...], opclasses=["gin_trgm_ops"])',
        ),
    },
    "cast": {
        "target": (
            "Seq Scan on shop_book  <-- sequential scan, not book_order_idx",
            '      Filter: (("order")::numeric = 120.0)',
        ),
        "block": (
            'the Index Cond searched none; left to the Filter: "order".',
            'Hint: order: the column (integer) is cast to numeric in "("order")::numeric ='
            ' 120.0", so the index, which orders integer values, cannot be searched with it.'
            " Compare with a value of the column's type (integer)",
        ),
    },
    "leading_column": {
        "both": (
            "the Index Cond searched status; left to the Filter: none.",
            "    The Index Cond does not use the leading key customer_id: a btree is then read"
            " whole (or skipped through), not searched.",
        ),
    },
    "or_columns": {
        "both": (
            "Seq Scan on shop_book  <-- sequential scan, not book_isbn_idx",
            "No index suggested for shop_book: the condition is an OR",
            "each branch needs an index of its own.",
        ),
    },
    "not_equal": {
        "both": (
            "the Index Cond searched customer_id; left to the Filter: status.",
            "Hint: status: <> (exclude(field=value)) in \"(status)::text <> 'open'::text\" is"
            ' checked row by row: a btree searches equality and ranges, not "all but".',
        ),
    },
    "not_in": {
        "both": (
            "the Index Cond searched customer_id; left to the Filter: status.",
            'Hint: status: NOT IN (exclude(field__in=...)) in "(status)::text <> ALL'
            " ('{open,lost}'::text[])\" is checked row by row",
        ),
    },
    "partial_literal": {
        "both": (
            '"order_open_customer_idx" is a partial index: it covers only rows of shop_order'
            " WHERE ((status)::text = 'open'::text).",
            "The query's conditions on that table do not imply this predicate",
            "    the predicate says ((status)::text = 'open'::text); the query:"
            " ((status)::text = 'closed'::text)",
        ),
    },
    "partial_range": {
        "both": (
            "    the predicate says ((status)::text = 'open'::text); the query:"
            " ((status)::text = 'shipped'::text)",
        ),
    },
    "partial_none": {
        "both": (
            "    the predicate says ((status)::text = 'open'::text); the query: no condition"
            " on status",
        ),
    },
    "order_direction": {
        "both": (
            "order_customer_created_idx is btree (customer_id, created DESC).",
            "    No Index Cond: the whole index was read, and no ORDER BY under a LIMIT made"
            " that worthwhile.",
            "      ->  Incremental Sort",
        ),
    },
    "index_walk": {
        "both": (
            "book_title_idx is btree (title).",
            "    Filter: (price = 1)",
            "Hint: no Index Cond: book_title_idx was read whole and every row filtered",
        ),
    },
    "dropped_index": {
        "both": (
            'Index "book_isbn_idx" does not exist in this database',
            "Indexes on the tables the query reads (shop_book):",
            "    book_title_idx: CREATE INDEX book_title_idx ON public.shop_book USING btree"
            " (title)",
            "SQL:",
            '    WHERE "shop_book"."isbn" = %s',
            "Plan:",
            "Seq Scan on shop_book",
        ),
    },
    # Issue 16. PostgreSQL 15 re-sorts with a Sort, 18 with an Incremental Sort (the
    # index delivered created): the texts below hold for both.
    "order_tiebreak": {
        "both": (
            'Expected index "order_customer_created_idx" to serve',
            "and deliver its ORDER BY (ordered=True), but the planner's scan of it did not.",
            " by created DESC, id above order_customer_created_idx: ",
            "Sort  <-- re-sorts the rows order_customer_created_idx delivered",
        ),
    },
    "searched_key_filter": {
        "both": (
            "the Index Cond searched customer_id; left to the Filter: created.",
            "Hint: created: extract() on the column",
        ),
    },
    "union_branch": {
        "both": (
            "Index Scan on book_customer_status_idx (branch 2 of Append, alias shop_book_1):"
            " the Index Cond searched customer_id; left to the Filter: status.",
            "    Filter: (upper((status)::text) = 'OPEN'::text)",
        ),
    },
    "keys_aggregate_filter": {
        "both": (
            "and search its keys (keys=...), but the planner's scan of it did not.",
            "    keys=: the Index Cond narrowed by customer_id; not searched: status",
            "book_customer_status_idx scanned, but not as the check asked",
        ),
    },
    "limit_walk": {
        "both": (
            "book_customer_cover_price is btree (customer_id) INCLUDE (price).",
            "    No Index Cond: the whole index was read under a LIMIT, but the statement has"
            " no ORDER BY",
            "    Filter: (price = 5)",
        ),
    },
}
# Texts a broken query's failure must NOT show: a wrong diagnosis is worse than none.
REFUSE: dict[str, tuple[str, ...]] = {
    "partial_literal": ("leading columns",),
    # The case: blamed the leading columns instead of the predicate.
    "partial_range": ("leading columns",),
    "partial_none": ("leading columns",),
    # An unrelated "did you mean" (book_title_idx is 0.74 similar) misleads.
    "dropped_index": ("Did you mean",),
    # The served branch is not the one named.
    "union_branch": ("branch 1 of Append",),
}


# The guard (and the bare marker) judge full reads, not whether a named index serves:
# a Seq Scan with a Filter, an index walked whole (no Index Cond) with one, or a btree
# searched without its leading key.
GUARD_CATCHES = {
    "startswith-list",
    "contains-list",
    "cast-list",
    "or_columns-list",
    "or_columns-count",
    "index_walk-list",
    "dropped_index-list",
    "dropped_index-count",
    # COUNT(*) reads the whole index into a bitmap (a Bitmap Index Scan without Index
    # Cond) and filters every row in the Bitmap Heap Scan above it, on 15 and 18 alike.
    "startswith-count",
    "contains-count",
    "cast-count",
    # Issue 16: an index searched without its leading key reads it whole, on 15 and 18
    # alike (18 may skip-scan it); the condition sits in the Index Cond, not a Filter.
    "leading_column-list",
    "leading_column-count",
    # Issue 16: a covering index walked whole under a LIMIT, price filtered.
    "limit_walk-first_row",
    "limit_walk-exists",
}
# Issue 21: ``.first()`` walks the pkey in its ORDER BY up to the LIMIT, price filtered:
# served by the order (as assert_uses_index counts it), a warning of its own kind.
GUARD_WARNS = {"first_walk-first"}
# Full reads the guard does not see: none known.
GUARD_MISSES: set[str] = set()


# When the planner reads the table sequentially although the index's key column is in
# the Filter, the failure names the cause from that condition (a LIKE on a btree, a
# wildcard, the cast's two types, an OR), not the generic "leading columns" hint.
SEQ_READ_CAUSES = {
    "startswith": "isbn: LIKE (startswith)",
    "contains": "isbn: the pattern in",
    "cast": "order: the column (integer) is cast to numeric",
    "or_columns": "isbn: the OR in",
}
